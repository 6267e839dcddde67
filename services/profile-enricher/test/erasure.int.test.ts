import { erasureGraceSecondsOf, type Account } from '@wxp/accounts';
import { ReadModels, Topics } from '@wxp/contracts';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { activeCollections, connectMongo, type MongoConnection } from '@wxp/mongo';
import { DATA_KEYS_COLLECTION, DataKeyStore } from '@wxp/privacy';
import { WechatApiClient } from '@wxp/wechat-api';
import pino from 'pino';
import { profileEnricherConsumers } from '../src/enricher';
import { startErasureSweeper, type ErasureSweeper } from '../src/erasure';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { testOpener, testPrivacyKey, testPseudonymOf } from '../../../test/support/privacy';
import { startConsumers } from '../../../test/support/running-consumers';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { testAccount } from '../../../test/support/wechat-push';

// An unfollower's data key is destroyed (at once, or after the account's grace period unless they
// follow again), so that everything of theirs on every topic reads as erased from then on.
const logger = pino({ level: 'silent' });
const graceSeconds = 4;
const immediate = testAccount();
const graceful = testAccount({ erasureGraceSeconds: graceSeconds });
const accounts = new Map<string, Account>([immediate, graceful].map((a) => [a.appId, a]));
let mongo: MongoConnection;
let gateway: RunningGateway;
let emulator: RunningEmulator;
let publisher: EventPublisher;
let profileEvents: TopicReader;
let sweeper: ErasureSweeper;
const consumers: RunningConsumer[] = [];

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('erasure')), 'erasure-test');
  gateway = await startGateway([...accounts.values()], { keysDb: mongo.db });
  emulator = await startEmulator([...accounts.values()], { gatewayUrl: gateway.url });
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'erasure-test', logger });
  publisher = await EventPublisher.connect(kafka);
  profileEvents = await TopicReader.start(Topics.profiles);
  const keys = new DataKeyStore(mongo.db, testPrivacyKey);
  consumers.push(
    ...(await startConsumers(
      'profile-enricher',
      kafka,
      mongo,
      profileEnricherConsumers({
        api: new WechatApiClient({
          baseUrl: emulator.baseUrl,
          secretOf: (appId) => accounts.get(appId)?.appSecret,
          tokenCollection: mongo.db.collection('wechat_access_tokens'),
        }),
        publisher,
        keys,
        logger,
        maxAgeSeconds: 3600,
        graceSecondsOf: (appId) => erasureGraceSecondsOf(accounts.get(appId)),
      }),
    )),
  );
  // The service sweeps every 30 s; the test's grace is short, so its sweeper is quicker.
  sweeper = startErasureSweeper(keys, logger, 200);
});

afterAll(async () => {
  await sweeper?.stop();
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await profileEvents?.stop();
  await emulator?.close();
  await gateway?.close();
  await mongo?.close();
});

interface KeyDocument {
  _id: string;
  user: string;
  createdAt: Date;
  erasesAt?: Date;
}
const keyDocuments = () => mongo.db.collection<KeyDocument>(DATA_KEYS_COLLECTION);
/** A fresh store: what any process that holds no key in its cache would read. */
// The erasure group reads the events topic from its beginning: in a full run it holds every other
// test's events too, so its waits allow for catching up on them.
const stillThere = async (keyId: string) =>
  (await new DataKeyStore(mongo.db, testPrivacyKey).keysByIds([keyId])).get(keyId) !== null;

async function act(account: Account, user: string, action: 'follow' | 'unfollow'): Promise<string> {
  const result = await emulator.control('simulate', { appId: account.appId, user, action });
  expect(result.body).toMatchObject({ delivered: true });
  return (result.body as { openId: string }).openId;
}

const profileOf = async (account: Account, openId: string) => {
  const { profiles } = await activeCollections(mongo.db, 'profile-enricher', {
    profiles: ReadModels.profiles,
  });
  return mongo.db.collection(profiles).findOne({ _id: testPseudonymOf(account.appId, openId) } as never);
};

/** Follows, waits for the profile, and returns the user's openId, pseudonym and (only) data key. */
async function follower(account: Account) {
  const user = uniqueName('follower');
  const openId = await act(account, user, 'follow');
  await eventually(
    async () => expect(await profileOf(account, openId)).toMatchObject({ state: 'known', openId }),
    60_000,
  );
  const pseudonym = testPseudonymOf(account.appId, openId);
  const [key, ...more] = await keyDocuments().find({ user: pseudonym }).toArray();
  expect(more).toEqual([]);
  return { user, openId, pseudonym, keyId: key!._id };
}

describe('erasure of data keys', () => {
  it('destroys an unfollower key at once: their profile events read as erased, the profile is gone', async () => {
    const { user, openId, pseudonym, keyId } = await follower(immediate);
    const { unionId } = (await profileOf(immediate, openId)) as unknown as { unionId: string };
    await act(immediate, user, 'unfollow');

    await eventually(async () => expect(await stillThere(keyId)).toBe(false), 60_000);
    const written = await eventually(async () => {
      const mine = profileEvents.of(immediate.appId).filter((e) => e.event.subject === pseudonym);
      expect(mine.map((e) => e.event.type)).toEqual(['wechat.profile.fetched', 'wechat.profile.erased']);
      return mine;
    }, 60_000);
    // Whoever reads the topic now, with any key store: the profile that was fetched is erased.
    const opened = await testOpener(mongo.db).open(written.map((e) => e.stored));
    expect(opened.map((o) => o.erased)).toEqual([true, true]);
    expect(opened[0]!.event.data).not.toHaveProperty('unionId');
    await eventually(async () => {
      const profile = await profileOf(immediate, openId);
      expect(profile).toMatchObject({ state: 'erased' });
      expect(JSON.stringify(profile)).not.toContain(openId);
      expect(JSON.stringify(profile)).not.toContain(unionId);
    }, 60_000);
  }, 240_000);

  it('keeps the key of a user who follows again within the grace period, and destroys it after the grace otherwise', async () => {
    const returning = await follower(graceful);
    const leaving = await follower(graceful);
    // The returning user's grace period ends no later than the leaving user's: a sweep that destroys
    // the leaving user's key would have destroyed the returning user's too, had it been scheduled.
    const unfollowedAt = Math.floor(Date.now() / 1000);
    await act(graceful, returning.user, 'unfollow');
    await act(graceful, leaving.user, 'unfollow');
    const unfollowedBy = Math.floor(Date.now() / 1000);
    const scheduled = await eventually(async () => {
      const [doc] = await keyDocuments().find({ _id: leaving.keyId }).toArray();
      expect(doc?.erasesAt).toBeInstanceOf(Date);
      return doc!.erasesAt!;
    }, 60_000);
    // Scheduled for the unfollow's time plus the grace, not destroyed at the unfollow.
    expect(scheduled.getTime()).toBeGreaterThanOrEqual((unfollowedAt + graceSeconds) * 1000);
    expect(scheduled.getTime()).toBeLessThanOrEqual((unfollowedBy + graceSeconds) * 1000);
    // WeChat's times are whole seconds: a follow again is told from the unfollow (and its profile
    // look-up from one made before the unfollow) only from the next second on.
    await eventually(
      async () => expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(unfollowedBy),
      5_000,
      50,
    );
    await act(graceful, returning.user, 'follow');

    await eventually(async () => expect(await stillThere(leaving.keyId)).toBe(false), 30_000, 200);
    expect(Date.now()).toBeGreaterThanOrEqual(scheduled.getTime());
    expect(await stillThere(returning.keyId)).toBe(true);
    const returned = await keyDocuments().find({ user: returning.pseudonym }).toArray();
    // The old key (history kept, no longer scheduled) and the fresh key of the follow again.
    expect(returned).toHaveLength(2);
    expect(returned.every((k) => k.erasesAt === undefined)).toBe(true);
    await eventually(
      async () =>
        expect(await profileOf(graceful, returning.openId)).toMatchObject({
          state: 'known',
          openId: returning.openId,
        }),
      60_000,
    );
    await eventually(
      async () => expect(await profileOf(graceful, leaving.openId)).toMatchObject({ state: 'erased' }),
      60_000,
    );
  }, 240_000);
});
