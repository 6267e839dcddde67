import type { Db } from 'mongodb';

/**
 * Which collections hold a service's read model right now. A replay builds fresh collections and
 * then points here at them in one update: readers and the live consumer look the names up per
 * request and per batch, so the switch is atomic on MongoDB and FerretDB alike.
 */
export interface ReadModelPointer {
  _id: string;
  collections: Record<string, string>;
}

export const READ_MODEL_POINTERS = 'read_model_pointers';

export async function activeCollections<N extends Record<string, string>>(
  db: Db,
  service: string,
  defaults: N,
): Promise<N> {
  const pointer = await db.collection<ReadModelPointer>(READ_MODEL_POINTERS).findOne({ _id: service });
  return { ...defaults, ...(pointer?.collections ?? {}) } as N;
}

export async function pointReadModelAt(
  db: Db,
  service: string,
  collections: Record<string, string>,
): Promise<void> {
  await db
    .collection<ReadModelPointer>(READ_MODEL_POINTERS)
    .updateOne({ _id: service }, { $set: { collections } }, { upsert: true });
}
