import type { Collection, Db } from 'mongodb';
import type { ProjectionWriteStats, VersionedDocument } from './document-projection';
import { readDocumentsById } from './documents-by-id';

/** Where a staged document stands: as the store has it, and as the projection has made it since. */
interface StagedDocument {
  stored: VersionedDocument | null;
  current: VersionedDocument | null;
}

type WriteThrough = (
  collection: Collection<VersionedDocument>,
  loaded: ReadonlyMap<string, VersionedDocument>,
  folded: ReadonlyMap<string, VersionedDocument | null>,
) => Promise<void>;

/**
 * The documents of one collection that a replay builds, held in memory and written to the store in
 * large batches (mostly one insert per document, instead of a replace per batch that touches it).
 * Only for collections nobody else reads or writes yet: a replay's fresh collections before the switch.
 */
class StagedCollection {
  private readonly documents = new Map<string, StagedDocument>();
  /** Until the first flush the collection is empty, so a document not held here does not exist. */
  private flushedBefore = false;

  constructor(
    private readonly collection: Collection<VersionedDocument>,
    private readonly writeThrough: WriteThrough,
  ) {}

  get size(): number {
    return this.documents.size;
  }

  async load(ids: readonly string[]): Promise<Map<string, VersionedDocument>> {
    const missing = this.flushedBefore ? ids.filter((id) => !this.documents.has(id)) : [];
    if (missing.length > 0) {
      const found = await readDocumentsById(this.collection, missing);
      for (const id of missing) {
        const stored = found.get(id) ?? null;
        this.documents.set(id, { stored, current: stored });
      }
    }
    const loaded = new Map<string, VersionedDocument>();
    for (const id of ids) {
      const current = this.documents.get(id)?.current;
      if (current) loaded.set(id, current);
    }
    return loaded;
  }

  write(
    folded: ReadonlyMap<string, VersionedDocument | null>,
    loaded: ReadonlyMap<string, VersionedDocument>,
    stats: Pick<ProjectionWriteStats, 'written'>,
  ): void {
    for (const [id, after] of folded) {
      const staged = this.documents.get(id);
      if (staged) {
        if (staged.current === after) continue;
        staged.current = after;
      } else {
        // Not held: new, or written out by a flush since this batch loaded it, as it was loaded then.
        const stored = loaded.get(id) ?? null;
        if (after === stored) continue;
        this.documents.set(id, { stored, current: after });
      }
      stats.written += 1;
    }
  }

  /** Writes every changed document and forgets them all, so memory stays bounded. */
  async flush(): Promise<void> {
    const stored = new Map<string, VersionedDocument>();
    const current = new Map<string, VersionedDocument | null>();
    for (const [id, document] of this.documents) {
      if (document.current === document.stored) continue;
      if (document.stored) stored.set(id, document.stored);
      current.set(id, document.current);
    }
    if (current.size > 0) await this.writeThrough(this.collection, stored, current);
    this.documents.clear();
    this.flushedBefore = true;
  }
}

export interface ReplayStagingOptions {
  /** Documents held in memory, over all staged collections, before they are written out. */
  maxDocuments: number;
}

const active = new Map<string, ReplayStaging>();

function keyOf(dbName: string, collectionName: string): string {
  return `${dbName}.${collectionName}`;
}

/**
 * Staging for the fresh collections of one replay. While it is active, the projections' reads and
 * writes of those collections (through loadDocuments and writeDocuments) stay in memory; `release`
 * writes everything out and hands the collections back to the store, before anyone else may see them.
 * Calls are queued one after another, so a release never interleaves with a batch's write.
 */
export class ReplayStaging {
  private readonly collections = new Map<string, StagedCollection>();
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;

  constructor(
    private readonly db: Db,
    names: readonly string[],
    private readonly options: ReplayStagingOptions,
    writeThrough: WriteThrough,
  ) {
    for (const name of names) {
      const key = keyOf(db.databaseName, name);
      if (active.has(key)) throw new Error(`${key} is already staged by another replay`);
      this.collections.set(name, new StagedCollection(db.collection(name), writeThrough));
    }
    for (const name of names) active.set(keyOf(db.databaseName, name), this);
  }

  /** The staged documents of a collection, or undefined once released (callers then use the store). */
  static of(collection: { dbName: string; collectionName: string }): ReplayStaging | undefined {
    return active.get(keyOf(collection.dbName, collection.collectionName));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** undefined when the staging was released while the call waited: the caller goes to the store. */
  load(collectionName: string, ids: readonly string[]): Promise<Map<string, VersionedDocument> | undefined> {
    return this.exclusive(async () => (this.released ? undefined : this.staged(collectionName).load(ids)));
  }

  /** false when the staging was released while the call waited: the caller writes to the store. */
  write(
    collectionName: string,
    folded: ReadonlyMap<string, VersionedDocument | null>,
    loaded: ReadonlyMap<string, VersionedDocument>,
    stats: Pick<ProjectionWriteStats, 'written'>,
  ): Promise<boolean> {
    return this.exclusive(async () => {
      if (this.released) return false;
      this.staged(collectionName).write(folded, loaded, stats);
      const held = [...this.collections.values()].reduce((sum, c) => sum + c.size, 0);
      if (held > this.options.maxDocuments) for (const c of this.collections.values()) await c.flush();
      return true;
    });
  }

  /** Writes every staged document to the store and stops staging. */
  release(): Promise<void> {
    return this.exclusive(async () => {
      if (this.released) return;
      for (const collection of this.collections.values()) await collection.flush();
      this.forget();
    });
  }

  /** Stops staging without writing: for a replay that is abandoned and drops its collections. */
  discard(): void {
    this.forget();
  }

  private forget(): void {
    this.released = true;
    for (const name of this.collections.keys()) active.delete(keyOf(this.db.databaseName, name));
  }

  private staged(collectionName: string): StagedCollection {
    const staged = this.collections.get(collectionName);
    if (!staged) throw new Error(`${collectionName} is not staged`);
    return staged;
  }
}
