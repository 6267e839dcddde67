import { hash } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { readDocumentsById } from './documents-by-id';
import { ReplayStaging, type ReplayStagingOptions } from './replay-staging';

/** A read-model document that remembers the position of the last event applied to it. */
export interface VersionedDocument {
  _id: string;
  position: number;
  /**
   * The last events applied to the document, by a hash of their id (see `eventId`): the same
   * event stored twice on a topic comes at a new offset, where the position does not stop it.
   */
  recentEvents?: string[];
}

/** How many events a document remembers at least, for recognising one delivered again at a new offset. */
export const REMEMBERED_EVENTS = 8;

/**
 * Beyond the last REMEMBERED_EVENTS, a document remembers the events of this many seconds before
 * its newest (by the events' own time, so a replay remembers as live traffic did). A second copy
 * of a push reaches the log within the gateways' clock window of the first (300 s) and WeChat's
 * tries: a user busy enough to send eight events meanwhile still has it recognised.
 */
export const REMEMBERED_SECONDS = 900;

/** The most events a document remembers, however busy its user. */
export const MAX_REMEMBERED_EVENTS = 64;

/** The time a remembered entry carries after its id (`<id>.<seconds in base 36>`), if any. */
function rememberedTimeOf(entry: string): number | undefined {
  const dot = entry.indexOf('.');
  return dot < 0 ? undefined : parseInt(entry.slice(dot + 1), 36);
}

/** The document's remembered events with one more: the last few, and those of the last REMEMBERED_SECONDS. */
export function rememberEvent(entries: readonly string[], id: string, time: number | undefined): string[] {
  const kept = entries.filter((entry, index) => {
    if (index >= entries.length - (REMEMBERED_EVENTS - 1)) return true;
    const at = rememberedTimeOf(entry);
    return time !== undefined && at !== undefined && at >= time - REMEMBERED_SECONDS;
  });
  const entry =
    time === undefined || !Number.isSafeInteger(time) || time < 0 ? id : `${id}.${time.toString(36)}`;
  return [...kept, entry].slice(-MAX_REMEMBERED_EVENTS);
}

/** Whether the entries remember the event whose remembered id is `id`. */
function remembers(entries: readonly string[] | undefined, id: string): boolean {
  return (
    entries?.some(
      (entry) => entry.slice(0, id.length) === id && (entry.length === id.length || entry[id.length] === '.'),
    ) ?? false
  );
}

/**
 * What a document remembers of an event id: 48 bits of its SHA-256, whatever the id looks like, so
 * that two different events among a document's last few share it with a chance of about one in
 * 10^13, in 8 characters instead of a UUID's 36.
 */
export function rememberedIdOf(eventId: string): string {
  return hash('sha256', eventId, 'base64url').slice(0, 8);
}

export interface PositionedEvent<E> {
  /** Increases with every event of the same document (the Kafka offset within the key's partition). */
  position: number;
  event: E;
}

/** A pure projection: which document an event concerns, and what that document becomes. */
export interface DocumentProjection<E, D extends VersionedDocument> {
  documentId(event: E): string | undefined;
  /** Returns the new document (with `position` set to the event's) or null when it must not exist. */
  evolve(current: D | null, event: E, position: number): D | null;
  /**
   * The event's id, for projections of events that can reach a topic twice (a push stored although
   * its answer failed, two gateways each taking one of WeChat's tries): an event a document has
   * recently applied is skipped even at a new offset. Absent: only positions guard.
   */
  eventId?(event: E): string;
  /** When the event happened, in seconds: with it, a document remembers events by age, not count alone. */
  eventTime?(event: E): number | undefined;
}

/** One event that changed a document, with the document before and after it. */
export interface Transition<E, D> {
  event: E;
  position: number;
  before: D | null;
  after: D | null;
}

export interface ProjectionWriteStats {
  applied: number;
  skipped: number;
  written: number;
  /** Writes that found the document changed by someone else since it was read (a rebalance overlap). */
  conflicts: number;
}

/** The documents `ids` name, as stored now (or as a replay's staging holds them). */
export async function loadDocuments<D extends VersionedDocument>(
  collection: Collection<D>,
  ids: readonly string[],
): Promise<Map<string, D>> {
  if (ids.length === 0) return new Map();
  const staged = await ReplayStaging.of(collection)?.load(collection.collectionName, ids);
  return staged ? (staged as Map<string, D>) : readDocumentsById(collection, ids);
}

/**
 * The pure core of a projection run: folds events over the documents as they were, skipping every
 * event at or below a document's position. Returns each touched document's new state (null: gone)
 * and, for each event applied, the document before and after it.
 */
export function foldEvents<E, D extends VersionedDocument>(
  projection: DocumentProjection<E, D>,
  documents: ReadonlyMap<string, D>,
  events: readonly PositionedEvent<E>[],
  stats: Pick<ProjectionWriteStats, 'applied' | 'skipped'> = { applied: 0, skipped: 0 },
): { documents: Map<string, D | null>; transitions: Transition<E, D>[] } {
  const current = new Map<string, D | null>();
  const transitions: Transition<E, D>[] = [];
  for (const { event, position } of events) {
    const id = projection.documentId(event);
    if (id === undefined) {
      stats.skipped += 1;
      continue;
    }
    const before = current.has(id) ? (current.get(id) ?? null) : (documents.get(id) ?? null);
    const remembered = projection.eventId ? rememberedIdOf(projection.eventId(event)) : undefined;
    if (
      before &&
      (position <= before.position ||
        (remembered !== undefined && remembers(before.recentEvents, remembered)))
    ) {
      stats.skipped += 1;
      current.set(id, before);
      continue;
    }
    let after = projection.evolve(before, event, position);
    if (after && remembered !== undefined)
      after = {
        ...after,
        recentEvents: rememberEvent(before?.recentEvents ?? [], remembered, projection.eventTime?.(event)),
      };
    current.set(id, after);
    transitions.push({ event, position, before, after });
    stats.applied += 1;
  }
  return { documents: current, transitions };
}

/**
 * Stock FerretDB 1.24 (SQLite) keeps each update statement's cursor open until the whole command
 * ends, and a database has 100 pooled connections: a command of 100 statements that find their
 * documents waits for a connection for ever, and the store stops answering. The local stack builds
 * FerretDB with that fixed; bulk writes still go in commands of at most this many, so a stock
 * FerretDB behind MONGO_URL keeps working.
 */
export const MAX_WRITES_PER_COMMAND = 50;

/** Documents per insert command: the store commits each command in one transaction. */
export const MAX_INSERTS_PER_COMMAND = 1_000;

/**
 * Writes folded documents back in bulk writes of at most MAX_WRITES_PER_COMMAND and inserts, each
 * guarded by the position that was read, so an overlapping consumer never rolls a document back.
 * Into a replay's staging, they are only recorded.
 */
export async function writeDocuments<D extends VersionedDocument>(
  collection: Collection<D>,
  loaded: ReadonlyMap<string, D>,
  folded: ReadonlyMap<string, D | null>,
  stats: Pick<ProjectionWriteStats, 'written' | 'conflicts'> = { written: 0, conflicts: 0 },
): Promise<void> {
  const staging = ReplayStaging.of(collection);
  if (staging && (await staging.write(collection.collectionName, folded, loaded, stats))) return;
  const conflictsBefore = stats.conflicts;
  await writeToStore(collection, loaded, folded, stats);
  // A document another consumer changed since it was read (a rebalance overlap) kept what that one
  // wrote: the batch is read and folded again, and what is applied already is skipped then.
  if (stats.conflicts > conflictsBefore)
    throw new ConcurrentWriteError(collection.collectionName, stats.conflicts - conflictsBefore);
}

/**
 * Documents changed by someone else between their read and their write: not the events' fault, so
 * the consumer applies the batch again, as often as it takes, and sends nothing to the DLQ.
 */
export class ConcurrentWriteError extends Error {
  override readonly name = 'ConcurrentWriteError';
  constructor(
    readonly collection: string,
    readonly documents: number,
  ) {
    super(`${documents} documents of ${collection} were changed by another writer since they were read`);
  }
}

async function writeToStore<D extends VersionedDocument>(
  collection: Collection<D>,
  loaded: ReadonlyMap<string, D>,
  folded: ReadonlyMap<string, D | null>,
  stats: Pick<ProjectionWriteStats, 'written' | 'conflicts'>,
): Promise<void> {
  const updates: AnyBulkWriteOperation<D>[] = [];
  const inserts: D[] = [];
  for (const [id, after] of folded) {
    const before = loaded.get(id) ?? null;
    if (after === before) continue;
    if (before === null) {
      if (after) inserts.push(after);
    } else if (after === null) {
      updates.push({ deleteOne: { filter: { _id: id, position: before.position } as Filter<D> } });
    } else {
      updates.push({
        replaceOne: { filter: { _id: id, position: before.position } as Filter<D>, replacement: after },
      });
    }
  }
  for (let from = 0; from < updates.length; from += MAX_WRITES_PER_COMMAND) {
    const chunk = updates.slice(from, from + MAX_WRITES_PER_COMMAND);
    const result = await collection.bulkWrite(chunk, { ordered: false });
    const done = result.matchedCount + result.deletedCount;
    stats.written += done;
    stats.conflicts += chunk.length - done;
  }
  // Two commands under way: the store commits one while the next is encoded and sent (a replay's
  // staged documents go out in a hundred or more of them).
  let next = 0;
  const writer = async () => {
    while (next < inserts.length) {
      const from = next;
      next += MAX_INSERTS_PER_COMMAND;
      await insertDocuments(collection, inserts.slice(from, from + MAX_INSERTS_PER_COMMAND), stats);
    }
  };
  // Both end before this does, so that a retry of the batch never overlaps an insert of this one.
  const ended = await Promise.allSettled([writer(), writer()]);
  for (const outcome of ended) if (outcome.status === 'rejected') throw outcome.reason;
}

/** Inserts documents; one that someone else inserted first is a conflict, not an error. */
async function insertDocuments<D extends VersionedDocument>(
  collection: Collection<D>,
  inserts: D[],
  stats: Pick<ProjectionWriteStats, 'written' | 'conflicts'>,
): Promise<void> {
  try {
    const result = await collection.insertMany(inserts as never[], { ordered: false });
    stats.written += result.insertedCount;
  } catch (error) {
    const inserted = (error as { result?: { insertedCount?: number } }).result?.insertedCount;
    const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 || list.some((e) => e.code !== 11000)) throw error;
    stats.written += inserted ?? 0;
    stats.conflicts += list.length;
  }
}

/**
 * Stages a replay's fresh collections in memory (see ReplayStaging): reads and writes of them stay
 * in memory, at most `maxDocuments` at a time, until `release()` writes them out.
 */
export function stageReplayCollections(
  db: Db,
  names: readonly string[],
  options: ReplayStagingOptions,
): ReplayStaging {
  return new ReplayStaging(db, names, options, (collection, loaded, folded) =>
    writeToStore(collection, loaded, folded, { written: 0, conflicts: 0 }),
  );
}

/**
 * Applies a batch of events to one collection: one read of the documents involved, the projection
 * folded over them in memory, one bulk write of the results. Events at or below a document's
 * stored position are skipped, so a batch delivered twice changes nothing.
 */
export async function projectIntoCollection<E, D extends VersionedDocument>(
  collection: Collection<D>,
  projection: DocumentProjection<E, D>,
  events: PositionedEvent<E>[],
): Promise<ProjectionWriteStats> {
  const stats: ProjectionWriteStats = { applied: 0, skipped: 0, written: 0, conflicts: 0 };
  const ids = [...new Set(events.map((e) => projection.documentId(e.event)).filter(isDefined))];
  const loaded = await loadDocuments(collection, ids);
  const { documents } = foldEvents(projection, loaded, events, stats);
  await writeDocuments(collection, loaded, documents, stats);
  return stats;
}

export function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
