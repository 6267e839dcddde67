import { MongoClient, type Db } from 'mongodb';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import {
  DATA_KEYS_COLLECTION,
  DataKeyStore,
  EventOpener,
  pseudonymOf,
  sealEvent,
  type DataKey,
} from '../src';
import type { CloudEvent } from '@wxp/contracts';
import { KeyWrapper } from '../src/key-wrapping';

interface LegacyKey {
  _id: string;
  user: string;
  appId: string;
  createdAt: Date;
  wrapped: string;
}

const secret = 'data-key-store-test-secret';
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  client = await new MongoClient(mongoUrlFor(uniqueName('data-keys'))).connect();
  db = client.db();
  await new DataKeyStore(db, secret).prepare();
});
afterAll(() => client.close());

const user = (name: string) => pseudonymOf(secret, 'wx1', name);

/** The key a user's next event (not a follow) is sealed with; fails when the user reads as erased. */
async function keyOf(store: DataKeyStore, pseudonym: string): Promise<DataKey> {
  const key = await store.keyForWriting('wx1', pseudonym);
  if (!key) throw new Error('no key: the user reads as erased');
  return key;
}

function click(subject: string, id: string): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/wechat/wx1',
    type: 'wechat.menu.clicked',
    subject,
    time: '2026-12-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    dataschema: 'urn:wxp:schema:wechat.menu.clicked:v2',
    data: { appId: 'wx1', openId: `open-${id}`, accountId: 'gh', createTime: 1, key: 'K', fields: {} },
  };
}

describe('the data key store', () => {
  it('keeps one key per user until a follow asks for a fresh one, and stores keys only wrapped', async () => {
    const store = new DataKeyStore(db, secret);
    const first = await keyOf(store, user('a'));
    expect(await keyOf(store, user('a'))).toEqual(first);
    // Another process finds the same key in the store.
    expect(await keyOf(new DataKeyStore(db, secret), user('a'))).toEqual(first);
    const fresh = await store.keyForWriting('wx1', user('a'), { fresh: true });
    expect(fresh.id).not.toBe(first.id);
    const stored = await db
      .collection(DATA_KEYS_COLLECTION)
      .find({ user: user('a') })
      .toArray();
    expect(stored).toHaveLength(2);
    for (const document of stored)
      expect(JSON.stringify(document)).not.toContain(first.key.toString('base64'));
    // A store under another PRIVACY_KEY cannot unwrap them.
    await expect(new DataKeyStore(db, 'some-other-privacy-key').keysByIds([first.id])).rejects.toThrow(
      /does not unwrap/,
    );
  });

  it("destroys a user's keys up to an unfollow's and leaves the key of a later follow", async () => {
    const store = new DataKeyStore(db, secret);
    const before = await keyOf(store, user('b'));
    const after = await store.keyForWriting('wx1', user('b'), { fresh: true });
    expect(await store.eraseUser(user('b'), { upTo: before.id })).toBe(1);
    const reader = new DataKeyStore(db, secret);
    const keys = await reader.keysByIds([before.id, after.id]);
    expect(keys.get(before.id)).toBeNull();
    expect(keys.get(after.id)).toEqual(after.key);
    // Again (a redelivered unfollow): its key is gone, the later one stays.
    expect(await store.eraseUser(user('b'), { upTo: before.id })).toBe(0);
    expect(await store.eraseUser(user('b'))).toBe(1);
    expect((await new DataKeyStore(db, secret).keysByIds([after.id])).get(after.id)).toBeNull();
  });

  it("writes a user's later events as erased once an unfollow destroyed their keys, until they follow again", async () => {
    const store = new DataKeyStore(db, secret);
    const unfollowed = await keyOf(store, user('gone'));
    expect(await store.eraseUser(user('gone'), { upTo: unfollowed.id })).toBe(1);
    // A retried push or a receipt after the unfollow: no new key that no erasure would reach.
    expect(await store.keyForWriting('wx1', user('gone'))).toBeNull();
    expect(await new DataKeyStore(db, secret).keyForWriting('wx1', user('gone'))).toBeNull();
    expect(await store.erasedSinceLastKey(user('gone'))).toBe(true);
    const returned = await store.keyForWriting('wx1', user('gone'), { fresh: true });
    expect(await keyOf(new DataKeyStore(db, secret), user('gone'))).toEqual(returned);
    expect(await store.erasedSinceLastKey(user('gone'))).toBe(false);
    // The same for an unfollow read from an older log (a migration's).
    await store.eraseUser(user('gone'), { madeBy: new Date(Date.now() + 1000), unfollowed: true });
    expect(await new DataKeyStore(db, secret).keyForWriting('wx1', user('gone'))).toBeNull();
  });

  it('gives a user who asked to be erased and still follows a new key for what they send anew', async () => {
    const store = new DataKeyStore(db, secret);
    const before = await keyOf(store, user('asked'));
    expect(await store.eraseUser(user('asked'), { madeBy: new Date(Date.now() + 1000) })).toBe(1);
    // Nothing is to be fetched about them again (the backfill asks this) ...
    expect(await new DataKeyStore(db, secret).erasedSinceLastKey(user('asked'))).toBe(true);
    // ... but a message they send is theirs anew, under a key the erasure did not reach.
    const later = await keyOf(new DataKeyStore(db, secret, { now: () => Date.now() + 2000 }), user('asked'));
    expect(later.id).not.toBe(before.id);
    expect(await new DataKeyStore(db, secret).erasedSinceLastKey(user('asked'))).toBe(false);
  });

  it("seals a user's events in a grace period with the keys awaiting it, and as erased after it", async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new DataKeyStore(db, secret, { now: () => now });
    const unfollowed = await keyOf(store, user('grace'));
    await store.scheduleErasure(user('grace'), unfollowed.id, new Date(now + 60_000));
    expect(await keyOf(new DataKeyStore(db, secret, { now: () => now }), user('grace'))).toEqual(unfollowed);
    now += 61_000;
    expect(await store.eraseDue()).toBe(1);
    expect(
      await new DataKeyStore(db, secret, { now: () => now }).keyForWriting('wx1', user('grace')),
    ).toBeNull();
  });

  it('lets a follow read after a grace period ended leave the erasure to the sweep', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new DataKeyStore(db, secret, { now: () => now });
    const unfollowed = await keyOf(store, user('late-follow'));
    await store.scheduleErasure(user('late-follow'), unfollowed.id, new Date(now + 60_000));
    // The erasure consumer reads the follow late, after the period it came too late for.
    await store.cancelScheduledErasure(user('late-follow'), new Date(now + 3_000_000));
    now += 61_000;
    expect(await store.eraseDue()).toBe(1);
    expect((await new DataKeyStore(db, secret).keysByIds([unfollowed.id])).get(unfollowed.id)).toBeNull();
  });

  it('gives the newest key of the store, not a cached one, when asked for the latest', async () => {
    const other = new DataKeyStore(db, secret);
    const first = await keyOf(other, user('two-gateways'));
    const refollow = await new DataKeyStore(db, secret).keyForWriting('wx1', user('two-gateways'), {
      fresh: true,
    });
    expect(await keyOf(other, user('two-gateways'))).toEqual(first);
    expect(await other.keyForWriting('wx1', user('two-gateways'), { latest: true })).toEqual(refollow);
  });

  it('runs a grace period: a follow within it keeps the keys, otherwise they go when it ends', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new DataKeyStore(db, secret, { now: () => now });
    const kept = await keyOf(store, user('c'));
    const lost = await keyOf(store, user('d'));
    await store.scheduleErasure(user('c'), kept.id, new Date(now + 60_000));
    await store.scheduleErasure(user('d'), lost.id, new Date(now + 60_000));
    await store.cancelScheduledErasure(user('c'), new Date(now + 10_000));
    now += 30_000;
    expect(await store.eraseDue()).toBe(0);
    now += 31_000;
    expect(await store.eraseDue()).toBe(1);
    const keys = await new DataKeyStore(db, secret).keysByIds([kept.id, lost.id]);
    expect(keys.get(kept.id)).toEqual(kept.key);
    expect(keys.get(lost.id)).toBeNull();
  });

  it('opens a batch with one store read, and reads a user as erased once their key is destroyed', async () => {
    const writer = new DataKeyStore(db, secret);
    const events = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const subject = user(`batch-${n % 5}`);
        return sealEvent(click(subject, `e${n}`), await keyOf(writer, subject));
      }),
    );
    const reader = new DataKeyStore(db, secret);
    const opener = new EventOpener(reader);
    const opened = await opener.open(events);
    expect(reader.reads).toBe(1);
    expect(opener.openingSeconds).toBeGreaterThan(0);
    expect(opened.map((o) => (o.event.data as { openId: string }).openId)).toEqual(
      events.map((e) => `open-${e.id}`),
    );
    expect(await opener.open(events)).toEqual(opened);
    expect(reader.reads).toBe(1);

    await writer.eraseUser(user('batch-0'));
    // This process saw no erasure event: it trusts its cache for the cache's lifetime only.
    const late = await new EventOpener(new DataKeyStore(db, secret)).open(events);
    expect(late.filter((o) => o.erased).map((o) => o.event.id)).toEqual(['e0', 'e5', 'e10', 'e15']);
    expect(
      late.filter((o) => o.erased).every((o) => (o.event.data as { openId: string }).openId === ''),
    ).toBe(true);
    // An erasure event in the batch makes the reader drop what it holds of the user.
    const erasure: CloudEvent = {
      ...click(user('batch-0'), 'x'),
      type: 'wechat.user.erased',
      data: { appId: 'wx1', requestedAt: 1 },
    };
    await opener.open([erasure]);
    expect((await opener.open([events[0]!]))[0]!.erased).toBe(true);
  });

  it("reads a batch's keys beyond one read's share in several reads side by side, each key once", async () => {
    const writer = new DataKeyStore(db, secret);
    const keys = await Promise.all(Array.from({ length: 620 }, (_, n) => keyOf(writer, user(`many-${n}`))));
    const reader = new DataKeyStore(db, secret);
    const found = await reader.keysByIds([...keys.map((k) => k.id), keys[0]!.id, 'gone.never-made']);
    expect(reader.reads).toBe(1);
    expect(reader.keysRead).toBe(621);
    expect(reader.readSeconds).toBeGreaterThan(0);
    expect(keys.every((k) => found.get(k.id)?.equals(k.key))).toBe(true);
    expect(found.get('gone.never-made')).toBeNull();
    // Each key in memory of its own, not a slice of a shared pool.
    expect(found.get(keys[0]!.id)!.buffer.byteLength).toBe(32);
  });

  it('preloads every key of the store in one pass when they all fit, and none when they would not', async () => {
    const collection = uniqueName('preloaded-keys');
    const writer = new DataKeyStore(db, secret, { collection });
    const keys = await Promise.all(
      Array.from({ length: 300 }, (_, n) => keyOf(writer, user(`preload-${n}`))),
    );
    await writer.eraseUser(user('preload-0'));

    const reader = new DataKeyStore(db, secret, { collection, maxCached: 1000 });
    expect(await reader.preload()).toBe(299);
    expect(reader.reads).toBe(1);
    const kept = keys.slice(1);
    const found = await reader.keysByIds(kept.map((k) => k.id));
    expect(reader.reads).toBe(1);
    expect(kept.every((k) => found.get(k.id)?.equals(k.key))).toBe(true);
    // The erased user's key was not there to load: asked for, it is read for and found gone.
    expect((await reader.keysByIds([keys[0]!.id])).get(keys[0]!.id)).toBeNull();
    expect(reader.reads).toBe(2);

    const small = new DataKeyStore(db, secret, { collection, maxCached: 100 });
    expect(await small.preload()).toBe(0);
    expect(small.reads).toBe(0);
    expect(small.cachedKeys).toBe(0);
  });

  it('stores the keys of concurrent follows in shared inserts, and reads a user once for concurrent events', async () => {
    const inserts: number[] = [];
    const monitored = await new MongoClient(mongoUrlFor(db.databaseName), {
      monitorCommands: true,
    }).connect();
    monitored.on('commandStarted', (event) => {
      if (event.commandName === 'insert') inserts.push((event.command.documents as unknown[]).length);
    });
    try {
      const writer = new DataKeyStore(monitored.db(), secret);
      const users = Array.from({ length: 200 }, (_, n) => user(`crowd-${n}`));
      const made = await Promise.all(users.map((u) => writer.keyForWriting('wx1', u, { fresh: true })));
      expect(inserts.reduce((sum, size) => sum + size, 0)).toBe(200);
      expect(inserts.length).toBeLessThan(20);
      // Every key is in the store once its call has returned, and another process finds each user's.
      const reader = new DataKeyStore(db, secret);
      const found = await Promise.all(users.map((u) => keyOf(reader, u)));
      expect(found.map((key) => key.id)).toEqual(made.map((key) => key.id));
      const again = new DataKeyStore(db, secret);
      const same = await Promise.all(Array.from({ length: 20 }, () => keyOf(again, users[7]!)));
      expect(new Set(same.map((key) => key.id))).toEqual(new Set([made[7]!.id]));
      expect(again.reads).toBe(1);
      expect(await db.collection(DATA_KEYS_COLLECTION).countDocuments({ user: { $in: users } })).toBe(200);
    } finally {
      await monitored.close();
    }
  });
  it("files a key under its user's pseudonym and still finds and erases keys filed before that", async () => {
    const collection = uniqueName('legacy-keys');
    const store = new DataKeyStore(db, secret, { collection });
    const fresh = await store.keyForWriting('wx1', user('new'), { fresh: true });
    expect(fresh.id.startsWith(`${user('new')}.`)).toBe(true);
    // A key as an earlier version made it: its id does not carry the pseudonym.
    const earlier = new DataKeyStore(db, secret, { collection });
    const made = await earlier.keyForWriting('wx1', user('old'), { fresh: true });
    await db.collection<LegacyKey>(collection).deleteOne({ _id: made.id });
    const legacyId = 'AAAAAAAAAAAAAAAAAAAAAA';
    await db.collection<LegacyKey>(collection).insertOne({
      _id: legacyId,
      user: user('old'),
      appId: 'wx1',
      createdAt: new Date(),
      wrapped: new KeyWrapper(secret).wrap(made.key, legacyId, user('old')),
    });
    const later = new DataKeyStore(db, secret, { collection });
    expect((await keyOf(later, user('old'))).id).toBe(legacyId);
    expect(await later.eraseUser(user('old'))).toBe(1);
    expect(await later.eraseUser(user('new'))).toBe(1);
    expect(await db.collection(collection).countDocuments({ wrapped: { $exists: true } })).toBe(0);
    // Both erasures are marked, the legacy user's too.
    expect(await later.erasedSinceLastKey(user('old'))).toBe(true);
    expect(await later.erasedSinceLastKey(user('new'))).toBe(true);
  });

  it('lets keys go from its cache once their lifetime is over, so a busy process holds only recent users', async () => {
    let clock = 1_000_000;
    const store = new DataKeyStore(db, secret, { cacheSeconds: 30, now: () => clock });
    for (let n = 0; n < 50; n++) await store.keyForWriting('wx1', user(`passing-${n}`), { fresh: true });
    // Each follow's key is held twice: to seal the user's next events, and by its id to open them.
    expect(store.cachedKeys).toBe(100);
    clock += 31_000;
    await store.keyForWriting('wx1', user('later'), { fresh: true });
    expect(store.cachedKeys).toBe(2);
  });
});
