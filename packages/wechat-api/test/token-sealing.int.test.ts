import { randomBytes } from 'node:crypto';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { SharedAccessTokens, TokenSealer, type AccessTokenDocument } from '@wxp/wechat-api';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

const appId = 'wxsealing0000001';
let mongo: MongoConnection;

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('token-sealing')), 'token-sealing-test');
});

afterAll(() => mongo?.close());

/** A process's view of the shared tokens, with a fetcher that records what it was asked. */
function tokensOf(collection: string, secret: string) {
  const fetches: boolean[] = [];
  const issued: string[] = [];
  const tokens = new SharedAccessTokens(
    mongo.db.collection<AccessTokenDocument>(collection),
    async (_appId, force) => {
      fetches.push(force);
      const token = `ACCESS-TOKEN-${randomBytes(12).toString('hex')}`;
      issued.push(token);
      return { token, expiresInSeconds: 7200 };
    },
    new TokenSealer((id) => (id === appId ? secret : undefined)),
  );
  return { tokens, fetches, issued };
}

/** Everything the store holds for the tokens, as a dump of it would show it. */
async function dump(collection: string): Promise<string> {
  const documents = [
    ...(await mongo.db.collection(collection).find({}).toArray()),
    ...(await mongo.db.collection(`${collection}_leases`).find({}).toArray()),
  ];
  return JSON.stringify(documents);
}

describe('access tokens at rest', () => {
  it('are stored sealed: a dump of the store holds no token text, and other processes still share it', async () => {
    const collection = uniqueName('tokens');
    const first = tokensOf(collection, 'the-app-secret-0123456789abcdef');
    const token = await first.tokens.get(appId);
    expect(first.issued).toEqual([token]);

    const stored = await dump(collection);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice('ACCESS-TOKEN-'.length));
    expect(stored).not.toContain(Buffer.from(token).toString('base64'));

    const second = tokensOf(collection, 'the-app-secret-0123456789abcdef');
    expect(await second.tokens.get(appId)).toBe(token);
    expect(second.fetches).toEqual([]);
  });

  it('treat a token stored in clear before sealing as absent: fetched again, never an error', async () => {
    const collection = uniqueName('tokens');
    const hour = 3600_000;
    await mongo.db.collection(collection).insertOne({
      _id: appId,
      token: 'OLD-CLEAR-TOKEN',
      expiresAt: new Date(Date.now() + 2 * hour),
      refreshAt: new Date(Date.now() + hour),
      forceRefresh: false,
      generation: 7,
    } as never);
    const view = tokensOf(collection, 'the-app-secret-0123456789abcdef');
    const token = await view.tokens.get(appId);
    expect(token).not.toBe('OLD-CLEAR-TOKEN');
    expect(view.fetches).toEqual([false]);
    const stored = await dump(collection);
    expect(stored).not.toContain('OLD-CLEAR-TOKEN');
    expect(stored).not.toContain(token);
  });

  it('treat a token sealed under another secret, or altered, as absent', async () => {
    const collection = uniqueName('tokens');
    await tokensOf(collection, 'the-old-secret-0123456789abcdef').tokens.get(appId);
    const rotated = tokensOf(collection, 'the-new-secret-0123456789abcdef');
    await rotated.tokens.get(appId);
    expect(rotated.fetches).toEqual([false]);

    const document = await mongo.db.collection<AccessTokenDocument>(collection).findOne({ _id: appId });
    const [format, iv, data, tag] = (document?.sealedToken ?? '').split('.');
    const flipped = Buffer.from(data ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await mongo.db
      .collection<AccessTokenDocument>(collection)
      .updateOne(
        { _id: appId },
        { $set: { sealedToken: [format, iv, flipped.toString('base64url'), tag].join('.') } },
      );
    const later = tokensOf(collection, 'the-new-secret-0123456789abcdef');
    await later.tokens.get(appId);
    expect(later.fetches).toEqual([false]);
  });

  it('still let a refused token be invalidated, so the next one is forced', async () => {
    const collection = uniqueName('tokens');
    const view = tokensOf(collection, 'the-app-secret-0123456789abcdef');
    const refused = await view.tokens.get(appId);
    await view.tokens.invalidate(appId, refused);
    const other = tokensOf(collection, 'the-app-secret-0123456789abcdef');
    const fresh = await other.tokens.get(appId);
    expect(fresh).not.toBe(refused);
    expect(other.fetches).toEqual([true]);
  });
});
