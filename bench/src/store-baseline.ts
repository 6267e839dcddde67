import { MongoClient } from 'mongodb';

export interface StoreBaseline {
  insertManyPerSecond: number;
  documents: number;
  /** Milliseconds per replaceOne by _id (what a projection does for a known user), by collection size. */
  replaceMsBySize: { size: number; ms: number }[];
}

/**
 * The store's raw rates in this run: insertMany of documents shaped like the read models', 500 per
 * call (about a consumer batch), and replaceOne by _id at growing collection sizes, since a
 * projection replaces more documents than it inserts.
 */
export async function measureStoreBaseline(mongoUrl: string, documents: number): Promise<StoreBaseline> {
  const client = new MongoClient(mongoUrl);
  await client.connect();
  try {
    const collection = client.db().collection<{ _id: string }>(`raw_${Date.now().toString(36)}`);
    const replaceMsBySize: StoreBaseline['replaceMsBySize'] = [];
    const checkpoints = new Set([1000, 10_000, 100_000].filter((n) => n <= documents));
    let inserted = 0;
    let insertMs = 0;
    while (inserted < documents) {
      const batch = Array.from({ length: Math.min(500, documents - inserted) }, (_, i) => ({
        _id: `user${inserted + i}`,
        appId: 'wxbench',
        state: 'following',
        openId: `oRaw${inserted + i}`,
        firstSubscribedAt: new Date(),
        lastSubscribedAt: new Date(),
        scene: 'bench',
        lastActivityAt: new Date(),
        position: inserted + i,
      }));
      const started = performance.now();
      await collection.insertMany(batch, { ordered: false });
      insertMs += performance.now() - started;
      inserted += batch.length;
      if (checkpoints.has(inserted)) {
        const ids = Array.from({ length: 20 }, (_, i) => `user${Math.floor((i * inserted) / 20)}`);
        const replaceStarted = performance.now();
        for (const _id of ids) {
          await collection.replaceOne(
            { _id },
            { appId: 'wxbench', state: 'following', position: inserted + 1 },
          );
        }
        replaceMsBySize.push({ size: inserted, ms: (performance.now() - replaceStarted) / ids.length });
      }
    }
    await collection.drop();
    return { insertManyPerSecond: documents / (insertMs / 1000), documents, replaceMsBySize };
  } finally {
    await client.close();
  }
}
