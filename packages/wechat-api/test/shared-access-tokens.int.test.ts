import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { SharedAccessTokens, TokenSealer, type AccessTokenDocument } from '@wxp/wechat-api';
import { eventually, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

// Each process of a fleet is a SharedAccessTokens of its own over one store; they share the test's
// clock, which the test moves instead of waiting for a token to age.
const appId = 'wxsharedtoken001';
const sealer = new TokenSealer((id) => (id === appId ? 'the-app-secret-0123456789abcdef' : undefined));
const lifetimeSeconds = 7200;
const aheadMs = 5 * 60_000;
let mongo: MongoConnection;

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('shared-tokens')), 'shared-tokens-test');
});

afterAll(() => mongo?.close());

class TestClock {
  reads = 0;
  constructor(public ms: number) {}
  readonly now = () => {
    this.reads += 1;
    return this.ms;
  };
}

/** One process's view of the tokens; its fetcher issues numbered tokens and may be held. */
function processOf(
  collection: string,
  clock: TestClock,
  options: { leaseMs?: number; waitMs?: number } = {},
  label = collection,
) {
  const fetched: string[] = [];
  let hold: Promise<void> | undefined;
  const tokens = new SharedAccessTokens(
    mongo.db.collection<AccessTokenDocument>(collection),
    async () => {
      const token = `TOKEN-${label}-${fetched.length + 1}`;
      fetched.push(token);
      await hold;
      return { token, expiresInSeconds: lifetimeSeconds };
    },
    sealer,
    { refreshAheadMs: aheadMs, pollMs: 10, now: clock.now, ...options },
  );
  return {
    tokens,
    fetched,
    /** Until the returned function is called, this process's token requests get no answer. */
    holdFetches(): () => void {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

/** The promise's value, or a failure naming `what` when it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('the shared access_token', () => {
  it('is refreshed ahead of expiry by one process, while the others keep using the current one', async () => {
    const collection = uniqueName('tokens');
    const clock = new TestClock(1_700_000_000_000);
    const issuedAt = clock.ms;
    const a = processOf(collection, clock);
    const b = processOf(collection, clock);

    const first = await a.tokens.get(appId);
    expect(await b.tokens.get(appId)).toBe(first);
    expect([a.fetched.length, b.fetched.length]).toEqual([1, 0]);

    const refreshAt = issuedAt + lifetimeSeconds * 1000 - aheadMs;
    clock.ms = refreshAt - 1000;
    expect(await a.tokens.get(appId)).toBe(first);
    expect(await b.tokens.get(appId)).toBe(first);
    expect(a.fetched.length + b.fetched.length).toBe(1);

    // Past the refresh point, nearly five minutes before the token expires: a new one is taken now.
    clock.ms = refreshAt + 1000;
    const release = a.holdFetches();
    const refreshed = a.tokens.get(appId);
    await eventually(async () => expect(a.fetched).toHaveLength(2), 10_000);
    // While A's refresh is under way, B is not kept waiting: the current token is still valid.
    expect(await within(b.tokens.get(appId), 10_000, 'B during the refresh')).toBe(first);
    expect(b.fetched).toEqual([]);
    release();
    const second = await within(refreshed, 10_000, 'the refresh');
    expect(second).not.toBe(first);
    expect(second).toBe(a.fetched[1]);
    // B's cached token is due for refresh too; it finds the new one in the store instead of fetching.
    expect(await b.tokens.get(appId)).toBe(second);
    expect(b.fetched).toEqual([]);

    const stored = await mongo.db.collection<AccessTokenDocument>(collection).findOne({ _id: appId });
    expect(stored?.expiresAt?.getTime()).toBe(clock.ms + lifetimeSeconds * 1000);
    expect(stored?.refreshAt?.getTime()).toBe(clock.ms + lifetimeSeconds * 1000 - aheadMs);
  });

  it('takes the refresh over from a holder that died with the lease', async () => {
    const collection = uniqueName('tokens');
    const clock = new TestClock(1_700_000_000_000);
    const leaseMs = 15_000;
    // A process took the lease for the first refresh and died before it stored a token.
    await mongo.db
      .collection<{ _id: string; owner: string; at: Date }>(`${collection}_leases`)
      .insertOne({ _id: `${appId}#1`, owner: 'a-dead-process', at: new Date(clock.ms) });
    const survivor = processOf(collection, clock, { leaseMs, waitMs: 10 * 60_000 });

    const token = survivor.tokens.get(appId);
    let settled = false;
    void token.then(
      () => (settled = true),
      () => (settled = true),
    );
    // While the lease is young, the survivor waits for its holder: it looks and does not fetch.
    clock.ms += leaseMs - 1000;
    const readsBefore = clock.reads;
    await eventually(async () => expect(clock.reads - readsBefore).toBeGreaterThan(20), 10_000);
    expect(survivor.fetched).toEqual([]);
    expect(settled).toBe(false);

    // Once the lease is older than leaseMs, the survivor removes it, takes it and refreshes.
    clock.ms += 2000;
    expect(await within(token, 10_000, 'the token after the lease ran out')).toBe(`TOKEN-${collection}-1`);
    expect(survivor.fetched).toHaveLength(1);
    const lease = await mongo.db
      .collection<{ _id: string; owner: string }>(`${collection}_leases`)
      .findOne({ _id: `${appId}#1` });
    expect(lease?.owner).not.toBe('a-dead-process');
    const stored = await mongo.db.collection<AccessTokenDocument>(collection).findOne({ _id: appId });
    expect(stored?.generation).toBe(1);
  });

  it('keeps the token of the process that took over from a fetch that outlived its lease', async () => {
    const collection = uniqueName('tokens');
    const clock = new TestClock(1_700_000_000_000);
    const leaseMs = 15_000;
    const slow = processOf(collection, clock, { leaseMs, waitMs: 10 * 60_000 }, 'slow');
    const release = slow.holdFetches();
    const slowToken = slow.tokens.get(appId);
    await eventually(async () => expect(slow.fetched).toHaveLength(1), 10_000);
    // The slow fetch outlives the lease; another process takes it over and stores its token.
    clock.ms += leaseMs + 1000;
    const other = processOf(collection, clock, { leaseMs, waitMs: 10 * 60_000 }, 'other');
    const otherToken = await within(other.tokens.get(appId), 10_000, 'the token of the process taking over');
    expect(otherToken).toBe('TOKEN-other-1');
    release();
    // The slow one answers at last: it takes the stored token rather than replace it with its own.
    expect(await within(slowToken, 10_000, 'the slow fetch')).toBe(otherToken);
    const stored = await mongo.db.collection<AccessTokenDocument>(collection).findOne({ _id: appId });
    expect(sealer.open(appId, stored!.sealedToken!)).toBe(otherToken);
  });
});
