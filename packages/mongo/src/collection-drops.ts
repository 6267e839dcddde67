import type { Db } from 'mongodb';

/** Some collections could not be dropped; the others were. Names only: they hold no personal data. */
export class CollectionsNotDropped extends Error {
  override readonly name = 'CollectionsNotDropped';
  constructor(
    readonly collections: string[],
    override readonly cause: unknown,
  ) {
    super(
      `could not drop ${collections.join(', ')} (${(cause as Error)?.message ?? String(cause)}); ` +
        'nothing reads them any more: drop them by hand',
    );
  }
}

/**
 * Drops every named collection, trying each even when one fails, and throws naming those left.
 * A collection that is already gone counts as dropped. Dropping is how a replaced read model's data
 * goes, personal fields included: a failure must be seen, not passed over.
 */
export async function dropCollections(db: Db, names: Iterable<string>): Promise<void> {
  const left: string[] = [];
  let firstCause: unknown;
  for (const name of names) {
    try {
      await db.collection(name).drop();
    } catch (error) {
      left.push(name);
      firstCause ??= error;
    }
  }
  if (left.length > 0) throw new CollectionsNotDropped(left, firstCause);
}
