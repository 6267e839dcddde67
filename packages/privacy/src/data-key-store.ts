import type { Collection, Db, Filter } from 'mongodb';
import { GroupCommit } from './group-commit';
import { KeyWrapper } from './key-wrapping';
import { secureRandomBytes } from './random-pool';

/** Ids per store read of keys; a batch missing more reads them in several reads at once. */
const KEYS_PER_READ = 250;

/** Erasure markers per store write; a sweep may end the grace periods of thousands of users at once. */
const MARKERS_PER_WRITE = 500;

/**
 * A key in memory of its own: a Buffer sliced from Node's shared pool keeps the whole 8 KB slab
 * alive, so thousands of cached keys would hold megabytes of otherwise dead buffers.
 */
function ownCopy(key: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(key.length);
  key.copy(copy);
  return copy;
}

/** The collection of wrapped user data keys; erasing a user deletes their documents. */
export const DATA_KEYS_COLLECTION = 'user_data_keys';

interface DataKeyDocument {
  _id: string;
  /** The user's pseudonym. */
  user: string;
  appId: string;
  createdAt: Date;
  wrapped: string;
  /** Set while an unfollow's grace period runs: the key goes at this time unless the user follows again. */
  erasesAt?: Date;
}

/**
 * Left where a user's keys were destroyed. After an unfollow's erasure, events of theirs written
 * later (a retried push, a receipt) are written as erased until they follow again, rather than under
 * a new key that no erasure would reach. After an erasure request from a user who still follows,
 * what they send anew gets a new key, but nothing is fetched about them again (the backfill). Its
 * id sorts just before the user's keys, so the read of a user's keys finds it too; it names no user
 * field, so counts of a user's keys leave it out.
 */
interface ErasureMarker {
  _id: string;
  /** Keys made up to this time are gone. */
  erasedUpTo: Date;
  /** Keys made up to this time went with an unfollow: the user left, and a follow brings them back. */
  leftUpTo?: Date;
}

/** A user's newest key in the store, and the marker of their erasures, when there are any. */
type UserKeys = { key?: DataKeyDocument; marker?: ErasureMarker };

const markerIdOf = (pseudonym: string) => `${pseudonym}-erased`;

const isKey = (document: DataKeyDocument | ErasureMarker): document is DataKeyDocument =>
  'wrapped' in document && typeof document.wrapped === 'string';

export interface DataKey {
  id: string;
  key: Buffer;
}

export interface DataKeyStoreOptions {
  /**
   * How long a process trusts a key it has read (default 30 s). It bounds how long a process that
   * did not see an erasure itself goes on using the erased key: events written with it in that
   * window read as erased, like everything else of the user.
   */
  cacheSeconds?: number;
  /** Keys a process keeps at most (default 100,000); the oldest go first. */
  maxCached?: number;
  collection?: string;
  now?: () => number;
}

interface CachedKey {
  key: Buffer;
  user: string;
  until: number;
}

/**
 * Per-user data keys: created on first sight, kept wrapped in the store, cached in the process, and
 * destroyed on erasure. Several processes may create a key for one user at once; each event names
 * the key it was sealed with, so that is harmless, and erasure destroys them all.
 */
export class DataKeyStore {
  private readonly keys: Collection<DataKeyDocument>;
  private readonly markers: Collection<ErasureMarker>;
  private readonly wrapper: KeyWrapper;
  private readonly cacheMs: number;
  private readonly maxCached: number;
  private readonly now: () => number;
  /** key id → key, oldest first: every entry lives the same time, so the first to expire lead. */
  private readonly byId = new Map<string, CachedKey>();
  /** Ids of keys known destroyed: an id never comes back, so that is for good. */
  private readonly destroyed = new Set<string>();
  private readonly idsOfUser = new Map<string, Set<string>>();
  /** pseudonym → the key new events of that user are sealed with. */
  private readonly forWriting = new Map<string, { key: DataKey; createdAt: number; until: number }>();
  // One insert under way at a time, the keys made meanwhile going together in the next: under
  // flat-out follows that is about ten keys an insert. With four under way the inserts were smaller
  // and the driver's work per command (encoding, server selection, sessions) took 22 % of the
  // gateway's CPU against 14 % with one; the gateway answered more pushes, not fewer. Lingering a
  // millisecond before an insert that follows a shared one makes them larger still.
  private readonly keyInserts = new GroupCommit<DataKeyDocument, void>(
    (documents) => this.insertKeys(documents),
    { maxInFlight: 1, lingerMs: 1 },
  );
  /** pseudonym → the key a follow is storing: the user's events that come meanwhile take it. */
  private readonly freshKeysUnderWay = new Map<string, Promise<DataKey>>();
  private readonly currentKeyReads = new Map<string, Promise<UserKeys>>();
  private holdsUnprefixedKeys: Promise<boolean> | undefined;
  /** Store reads made for keys, for tests of the cache. */
  reads = 0;
  /** Keys those reads asked for. */
  keysRead = 0;
  /** Seconds spent waiting for reads of keys by id (an event batch waits for its keys). */
  readSeconds = 0;

  /** Keys this process holds, for tests of the cache. */
  get cachedKeys(): number {
    return this.byId.size + this.forWriting.size;
  }

  constructor(db: Db, privacyKey: string, options: DataKeyStoreOptions = {}) {
    this.keys = db.collection<DataKeyDocument>(options.collection ?? DATA_KEYS_COLLECTION);
    this.markers = db.collection<ErasureMarker>(options.collection ?? DATA_KEYS_COLLECTION);
    this.wrapper = new KeyWrapper(privacyKey);
    this.cacheMs = (options.cacheSeconds ?? 30) * 1000;
    this.maxCached = options.maxCached ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  async prepare(): Promise<void> {
    await this.keys.createIndex({ erasesAt: 1 });
    // Only keys filed before ids carried the pseudonym are looked up by user; for the rest the
    // index would be one more to update on every follow.
    if (await this.holdsKeysWithoutPseudonym()) await this.keys.createIndex({ user: 1, createdAt: -1 });
  }

  private holdsKeysWithoutPseudonym(): Promise<boolean> {
    this.holdsUnprefixedKeys ??= this.keys
      .findOne({ _id: { $not: /\./ } }, { projection: { _id: 1 } })
      .then((found) => found !== null);
    return this.holdsUnprefixedKeys;
  }

  /**
   * The filter of a user's keys. A key's id starts with its user's pseudonym, so the filter is a
   * range of `_id`, which every store answers from the `_id` index (FerretDB's SQLite backend uses
   * no other index for a query). Keys made before ids carried the pseudonym are found by `user`,
   * at the cost of reading every key, as long as the store holds any.
   */
  private async keysOf(pseudonym: string): Promise<Filter<DataKeyDocument>> {
    if (await this.holdsKeysWithoutPseudonym()) return { user: pseudonym };
    return { _id: { $gte: `${pseudonym}.`, $lt: `${pseudonym}/` } };
  }

  /**
   * The key to seal a user's new event with. `fresh` (a follow) always makes a new key, so that
   * a user who follows again is not caught by the erasure of their earlier unfollow. `latest` asks
   * the store rather than this process's cache: an unfollow must name the newest key, which a follow
   * through another process may have made since. `null` when the user's keys went with an unfollow
   * and no follow came since: the event is to be written as erased. Concurrent calls share their store
   * round trips (one insert for all the keys made together, one read per user), and a call returns
   * only once its key is stored: a consumer must find the key of every event it reads, or it would
   * take the event for erased.
   */
  async keyForWriting(appId: string, pseudonym: string, options: { fresh: true }): Promise<DataKey>;
  async keyForWriting(
    appId: string,
    pseudonym: string,
    options?: { fresh?: boolean; latest?: boolean },
  ): Promise<DataKey | null>;
  async keyForWriting(
    appId: string,
    pseudonym: string,
    options: { fresh?: boolean; latest?: boolean } = {},
  ): Promise<DataKey | null> {
    if (!options.fresh) {
      const cached = options.latest ? undefined : this.forWriting.get(pseudonym);
      if (cached && cached.until > this.now()) return cached.key;
      // A follow's key under way here is the newest: the event came with or after the follow.
      const making = this.freshKeysUnderWay.get(pseudonym);
      if (making) return making;
      const { key: current, marker } = await this.currentKeyOf(pseudonym);
      const left = marker?.leftUpTo && (!current || current.createdAt <= marker.leftUpTo);
      if (left) return this.freshKeysUnderWay.get(pseudonym) ?? null;
      if (current) return this.remember(pseudonym, this.unwrapped(current), current.createdAt.getTime());
    }
    const making = this.newKey(appId, pseudonym);
    this.freshKeysUnderWay.set(pseudonym, making);
    try {
      return await making;
    } finally {
      if (this.freshKeysUnderWay.get(pseudonym) === making) this.freshKeysUnderWay.delete(pseudonym);
    }
  }

  private async newKey(appId: string, pseudonym: string): Promise<DataKey> {
    const createdAt = this.now();
    const id = `${pseudonym}.${secureRandomBytes(16).toString('base64url')}`;
    const key = ownCopy(secureRandomBytes(32));
    await this.keyInserts.submit({
      _id: id,
      user: pseudonym,
      appId,
      createdAt: new Date(createdAt),
      wrapped: this.wrapper.wrap(key, id, pseudonym),
    });
    return this.remember(pseudonym, { id, key }, createdAt);
  }

  private async insertKeys(documents: DataKeyDocument[]): Promise<void[]> {
    await this.keys.insertMany(documents, { ordered: false });
    return [];
  }

  /**
   * Whether the user's keys were destroyed (an unfollow or an erasure request) and none was made
   * since: nothing is to be fetched about them again until they act anew.
   */
  async erasedSinceLastKey(pseudonym: string): Promise<boolean> {
    const { key, marker } = await this.currentKeyOf(pseudonym);
    return marker !== undefined && (!key || key.createdAt <= marker.erasedUpTo);
  }

  /**
   * The user's newest key, one awaiting the end of a grace period included (an event written then
   * goes with the rest of their history, or stays with it if they follow again), and the marker of
   * their erasures, if any. Concurrent calls for one user share one read.
   */
  private currentKeyOf(pseudonym: string): Promise<UserKeys> {
    let reading = this.currentKeyReads.get(pseudonym);
    if (!reading) {
      this.reads += 1;
      reading = this.holdsKeysWithoutPseudonym()
        .then((legacy) =>
          this.keys
            .find(
              legacy
                ? { $or: [{ user: pseudonym }, { _id: markerIdOf(pseudonym) }] }
                : { _id: { $gte: `${pseudonym}-`, $lt: `${pseudonym}/` } },
            )
            .toArray(),
        )
        .then((documents) => {
          const all = documents as (DataKeyDocument | ErasureMarker)[];
          const marker = all.find((document) => document._id === markerIdOf(pseudonym)) as
            ErasureMarker | undefined;
          const newest = all.filter(isKey).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
          return { ...(newest ? { key: newest } : {}), ...(marker ? { marker } : {}) };
        })
        .finally(() => this.currentKeyReads.delete(pseudonym));
      this.currentKeyReads.set(pseudonym, reading);
    }
    return reading;
  }

  /**
   * Reads every key of the store into the cache in one pass, when they all fit (at most
   * `maxCached`), and returns how many; 0 when they would not fit. For a replay: its events name
   * nearly every user's keys, in an order no store reads fast by id, and one scan of the collection
   * is far quicker than reading them batch by batch. Counts as one read of keys.
   */
  async preload(): Promise<number> {
    const started = process.hrtime.bigint();
    // The count and the scan side by side: some stores (FerretDB) count by reading every document.
    const counting = this.keys.estimatedDocumentCount();
    // The fields a key is unwrapped from: the rest would cost decoding a hundred thousand times.
    const cursor = this.keys.find({}, { projection: { _id: 1, user: 1, wrapped: 1 }, batchSize: 10_000 });
    let fits: boolean | undefined;
    const counted = counting.then((total) => {
      fits = total > 0 && total <= this.maxCached;
    });
    // A failed count is met below, after the scan; until then it must not end the process.
    counted.catch(() => undefined);
    const loaded: { document: DataKeyDocument; key: Buffer }[] = [];
    let scanned = 0;
    let pending: DataKeyDocument[] = [];
    // Each batch's keys are unwrapped while the store prepares the next one.
    let unwrapping: Promise<void> = Promise.resolve();
    const unwrapLater = (documents: DataKeyDocument[]) => {
      unwrapping = unwrapping
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          for (const document of documents)
            loaded.push({
              document,
              key: this.wrapper.unwrap(document.wrapped, document._id, document.user),
            });
        });
      unwrapping.catch(() => undefined);
    };
    try {
      for await (const document of cursor) {
        if (fits === false || scanned >= this.maxCached) break;
        if (!isKey(document)) continue;
        scanned += 1;
        pending.push(document);
        if (cursor.bufferedCount() === 0) {
          unwrapLater(pending);
          pending = [];
        }
      }
      unwrapLater(pending);
      await counted;
      await unwrapping;
    } finally {
      await cursor.close();
    }
    if (!fits) return 0;
    const until = this.now() + this.cacheMs;
    for (const { document, key } of loaded)
      this.cache(document._id, { key: ownCopy(key), user: document.user, until });
    this.reads += 1;
    this.keysRead += loaded.length;
    this.readSeconds += Number(process.hrtime.bigint() - started) / 1e9;
    return loaded.length;
  }

  /** The keys of the given ids, `null` for those destroyed; one store read for all that are not cached. */
  async keysByIds(ids: Iterable<string>): Promise<Map<string, Buffer | null>> {
    const now = this.now();
    const found = new Map<string, Buffer | null>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.byId.get(id);
      if (this.destroyed.has(id)) found.set(id, null);
      else if (cached && cached.until > now) found.set(id, cached.key);
      else missing.push(id);
    }
    if (missing.length > 0) {
      this.reads += 1;
      this.keysRead += missing.length;
      const started = process.hrtime.bigint();
      // The store answers a long `$in` in one thread: several shorter ones side by side come back sooner.
      const chunks: string[][] = [];
      for (let from = 0; from < missing.length; from += KEYS_PER_READ)
        chunks.push(missing.slice(from, from + KEYS_PER_READ));
      const documents = (
        await Promise.all(chunks.map((chunk) => this.keys.find({ _id: { $in: chunk } }).toArray()))
      ).flat();
      this.readSeconds += Number(process.hrtime.bigint() - started) / 1e9;
      for (const document of documents)
        if (isKey(document)) found.set(document._id, this.unwrapped(document).key);
      for (const id of missing) {
        if (!found.has(id)) {
          found.set(id, null);
          this.destroyed.add(id);
          if (this.destroyed.size > this.maxCached)
            this.destroyed.delete(this.destroyed.values().next().value!);
        }
      }
    }
    return found;
  }

  /**
   * Destroys a user's keys: all of them; or (`upTo`, an unfollow) the given key and those made
   * before it, which leaves the key of a follow that came after the unfollow; or (`madeBy`, an
   * erasure request read later from the log) those made by that time. Returns how many went. An
   * unfollow's (`upTo`, or `unfollowed`) leaves the user marked as gone until they follow again. The
   * marker goes first: from then on nothing new is sealed with a key about to go.
   */
  async eraseUser(
    pseudonym: string,
    options: { upTo?: string; madeBy?: Date; unfollowed?: boolean } = {},
  ): Promise<number> {
    const target = await this.targetOf(pseudonym, options.upTo);
    const madeBy = options.madeBy ?? target?.madeBy;
    if (target) {
      const left = options.upTo !== undefined || options.unfollowed === true;
      await this.markErased([{ pseudonym, upTo: madeBy ?? new Date(this.now()), left }]);
    }
    // After the marker: a key this process read meanwhile must not outlive the erasure here.
    this.forget(pseudonym);
    if (!target) return 0;
    const result = await this.keys.deleteMany(
      madeBy === undefined ? target.filter : { ...target.filter, createdAt: { $lte: madeBy } },
    );
    return result.deletedCount;
  }

  /** Starts an unfollow's grace period: the keys up to `upTo` go at `at`, unless the user follows again. */
  async scheduleErasure(pseudonym: string, upTo: string, at: Date): Promise<void> {
    const target = await this.targetOf(pseudonym, upTo);
    this.forget(pseudonym);
    if (target?.madeBy)
      await this.keys.updateMany(
        { ...target.filter, createdAt: { $lte: target.madeBy } },
        { $set: { erasesAt: at } },
      );
  }

  /**
   * The user followed again at `followedAt`: the erasures whose grace period had not ended by then
   * are called off. One that had ended stays for the sweep, however late this follow is read.
   */
  async cancelScheduledErasure(pseudonym: string, followedAt: Date): Promise<void> {
    await this.keys.updateMany(
      { ...(await this.keysOf(pseudonym)), erasesAt: { $gt: followedAt } },
      { $unset: { erasesAt: '' } },
    );
  }

  /** Destroys the keys whose grace period is over; returns how many. */
  async eraseDue(): Promise<number> {
    const due = await this.keys
      .find({ erasesAt: { $lte: new Date(this.now()) } }, { projection: { user: 1, createdAt: 1 } })
      .toArray();
    if (due.length === 0) return 0;
    const upToOf = new Map<string, Date>();
    for (const { user, createdAt } of due) {
      const known = upToOf.get(user);
      if (!known || known < createdAt) upToOf.set(user, createdAt);
      this.forget(user);
    }
    await this.markErased([...upToOf].map(([pseudonym, upTo]) => ({ pseudonym, upTo, left: true })));
    const result = await this.keys.deleteMany({ _id: { $in: due.map((d) => d._id) } });
    return result.deletedCount;
  }

  /** Records (or moves later) the time up to which each user's keys are destroyed, and left with them. */
  private async markErased(
    erasures: readonly { pseudonym: string; upTo: Date; left: boolean }[],
  ): Promise<void> {
    for (let from = 0; from < erasures.length; from += MARKERS_PER_WRITE) {
      await this.markers.bulkWrite(
        erasures.slice(from, from + MARKERS_PER_WRITE).map(({ pseudonym, upTo, left }) => ({
          updateOne: {
            filter: { _id: markerIdOf(pseudonym) },
            update: { $max: left ? { erasedUpTo: upTo, leftUpTo: upTo } : { erasedUpTo: upTo } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
  }

  /** Drops what this process holds of a user, so that its next use asks the store. */
  forget(pseudonym: string): void {
    this.forWriting.delete(pseudonym);
    for (const id of this.idsOfUser.get(pseudonym) ?? []) this.uncache(id);
  }

  /**
   * The user's keys an erasure reaches: all of them, or (`upTo`) those made by the time the named
   * key was (`madeBy`); undefined when that key is gone already: the keys up to it were destroyed
   * then, and any left are newer.
   */
  private async targetOf(
    pseudonym: string,
    upTo: string | undefined,
  ): Promise<{ filter: Filter<DataKeyDocument>; madeBy?: Date } | undefined> {
    const filter = await this.keysOf(pseudonym);
    if (upTo === undefined) return { filter };
    const last = await this.keys.findOne({ _id: upTo, user: pseudonym }, { projection: { createdAt: 1 } });
    if (!last) return undefined;
    return { filter, madeBy: last.createdAt };
  }

  private unwrapped(document: DataKeyDocument): DataKey {
    const key = ownCopy(this.wrapper.unwrap(document.wrapped, document._id, document.user));
    this.cache(document._id, { key, user: document.user, until: this.now() + this.cacheMs });
    return { id: document._id, key };
  }

  private remember(pseudonym: string, key: DataKey, createdAt: number): DataKey {
    const known = this.forWriting.get(pseudonym);
    // A read that set out before a follow's new key was made must not bring the older key back.
    if (known && known.createdAt > createdAt && known.until > this.now()) return known.key;
    this.forWriting.delete(pseudonym);
    this.forWriting.set(pseudonym, { key, createdAt, until: this.now() + this.cacheMs });
    if (this.forWriting.size > this.maxCached) this.forWriting.delete(this.forWriting.keys().next().value!);
    for (const [user, entry] of this.forWriting) {
      if (entry.until > this.now()) break;
      this.forWriting.delete(user);
    }
    this.cache(key.id, { key: key.key, user: pseudonym, until: this.now() + this.cacheMs });
    return key;
  }

  private cache(id: string, entry: CachedKey): void {
    this.uncache(id);
    this.byId.set(id, entry);
    const ids = this.idsOfUser.get(entry.user) ?? new Set<string>();
    ids.add(id);
    this.idsOfUser.set(entry.user, ids);
    if (this.byId.size > this.maxCached) this.uncache(this.byId.keys().next().value!);
    // Expired keys go as new ones come, so a busy process holds about a cache lifetime's users,
    // not maxCached of them.
    for (const [cachedId, cached] of this.byId) {
      if (cached.until > this.now()) break;
      this.uncache(cachedId);
    }
  }

  private uncache(id: string): void {
    const cached = this.byId.get(id);
    if (!cached) return;
    this.byId.delete(id);
    const ids = this.idsOfUser.get(cached.user);
    ids?.delete(id);
    if (ids?.size === 0) this.idsOfUser.delete(cached.user);
  }
}
