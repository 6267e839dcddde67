import type { Db } from 'mongodb';
import { dropCollections } from './collection-drops';

/**
 * A read model as it stood at a time: built by a point-in-time replay into collections of its own,
 * which no live consumer writes and no pointer names. Only finished snapshots are recorded, so a
 * recorded snapshot is always whole.
 */
export interface ReadModelSnapshot {
  /** `<service>.<stamp>`: the service and when the build began, in milliseconds, base 36. */
  _id: string;
  service: string;
  /** The log up to (not including) its first event stamped at or after this time. */
  until: Date;
  builtAt: Date;
  /** Events of the log before `until`, read to build it. */
  events: number;
  collections: Record<string, string>;
}

export const READ_MODEL_SNAPSHOTS = 'read_model_snapshots';

export const snapshotIdOf = (service: string, stamp: string) => `${service}.${stamp}`;

export async function recordSnapshot(db: Db, snapshot: ReadModelSnapshot): Promise<void> {
  await db.collection<ReadModelSnapshot>(READ_MODEL_SNAPSHOTS).insertOne(snapshot);
}

export async function findSnapshot(db: Db, id: string): Promise<ReadModelSnapshot | null> {
  return db.collection<ReadModelSnapshot>(READ_MODEL_SNAPSHOTS).findOne({ _id: id });
}

/** Newest build first. */
export async function listSnapshots(db: Db, service?: string): Promise<ReadModelSnapshot[]> {
  return db
    .collection<ReadModelSnapshot>(READ_MODEL_SNAPSHOTS)
    .find(service === undefined ? {} : { service })
    .sort({ builtAt: -1 })
    .limit(1000)
    .toArray();
}

/**
 * Forgets a snapshot, then drops its collections: a reader never finds a record without them. A
 * collection that cannot be dropped is named in the error (CollectionsNotDropped).
 */
export async function dropSnapshot(db: Db, id: string): Promise<boolean> {
  const snapshot = await db.collection<ReadModelSnapshot>(READ_MODEL_SNAPSHOTS).findOneAndDelete({ _id: id });
  if (!snapshot) return false;
  await dropCollections(db, Object.values(snapshot.collections));
  return true;
}
