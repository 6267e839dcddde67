import type { Collection, Filter } from 'mongodb';

/** Largest `$in` list sent in one read. */
export const MAX_IDS_PER_READ = 5_000;

/** The documents of `collection` that `ids` name, as stored, read in lists of MAX_IDS_PER_READ. */
export async function readDocumentsById<D extends { _id: string }>(
  collection: Collection<D>,
  ids: readonly string[],
): Promise<Map<string, D>> {
  const found = new Map<string, D>();
  for (let from = 0; from < ids.length; from += MAX_IDS_PER_READ) {
    const chunk = ids.slice(from, from + MAX_IDS_PER_READ);
    for (const document of await collection.find({ _id: { $in: chunk } } as Filter<D>).toArray())
      found.set((document as D)._id, document as D);
  }
  return found;
}
