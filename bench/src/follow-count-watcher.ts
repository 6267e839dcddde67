import { ReadModels, Topics, topicCatalogue } from '@wxp/contracts';
import { pseudonymOf } from '@wxp/privacy';
import { Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';

const partitionCount = topicCatalogue.find((t) => t.name === Topics.events)?.partitions ?? 12;
const partitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = Array.from({ length: partitionCount }, (_, i) => ({
  partitionId: i,
  leader: 1,
  replicas: [1],
  isr: [1],
  offlineReplicas: [],
  partitionErrorCode: 0,
}));

/**
 * The partition the gateway's producer sends a user's events to: kafkajs's murmur2 partitioner over
 * the event's key, which is the user's pseudonym under the gateway's PRIVACY_KEY.
 */
export function partitionOf(privacyKey: string, appId: string, openId: string): number {
  return partitioner({
    topic: Topics.events,
    partitionMetadata,
    message: { key: pseudonymOf(privacyKey, appId, openId), value: null },
  });
}

interface Waiter {
  ordinal: number;
  resolve(seenAt: number): void;
}

/**
 * Tells when follows become visible in the subscriber projection's read model without loading the
 * store: it reads the account's per-partition follower counts (one small query every few ms), and
 * the n-th follow acknowledged on a partition is visible once that partition has counted n follows.
 * Within a partition the log keeps the order the broker acknowledged in, and the projection writes
 * a batch's counts just before its users, in the same batch.
 */
export class FollowCountWatcher {
  private readonly acknowledged = new Array<number>(partitionCount).fill(0);
  private readonly counted = new Array<number>(partitionCount).fill(0);
  private readonly waiters = new Map<number, Waiter[]>();
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly client: MongoClient,
    private readonly appId: string,
    private readonly privacyKey: string,
    private readonly everyMs: number,
  ) {
    this.loop = this.poll();
  }

  /** `privacyKey` is the gateway's: it decides the partition of each user's events. */
  static async connect(
    mongoUrl: string,
    appId: string,
    privacyKey: string,
    everyMs = 5,
  ): Promise<FollowCountWatcher> {
    const client = new MongoClient(mongoUrl, { maxPoolSize: 2 });
    await client.connect();
    return new FollowCountWatcher(client, appId, privacyKey, everyMs);
  }

  /** Call when a follow was answered success; resolves with the time (performance.now()) it is counted. */
  visible(openId: string): Promise<number> {
    const partition = partitionOf(this.privacyKey, this.appId, openId);
    const ordinal = ++this.acknowledged[partition]!;
    return new Promise((resolve) => {
      const list = this.waiters.get(partition) ?? [];
      list.push({ ordinal, resolve });
      this.waiters.set(partition, list);
    });
  }

  get pending(): number {
    return [...this.waiters.values()].reduce((n, list) => n + list.length, 0);
  }

  private async poll(): Promise<void> {
    const counts = this.client
      .db()
      .collection<{ appId: string; partition: number; follows: number }>(ReadModels.followerCounts);
    while (this.running) {
      const docs = await counts
        .find({ appId: this.appId }, { projection: { partition: 1, follows: 1 } })
        .toArray()
        .catch(() => []);
      const now = performance.now();
      for (const doc of docs) {
        this.counted[doc.partition] = doc.follows;
        const list = this.waiters.get(doc.partition);
        if (!list) continue;
        const still = list.filter((w) => {
          if (w.ordinal > doc.follows) return true;
          w.resolve(now);
          return false;
        });
        this.waiters.set(doc.partition, still);
      }
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.close();
  }
}
