import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ReadModels, Topics } from '@wxp/contracts';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { activeCollections, connectMongo, type MongoConnection } from '@wxp/mongo';
import { DataKeyStore } from '@wxp/privacy';
import { WechatApiClient } from '@wxp/wechat-api';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pino from 'pino';
import { profileEnricherConsumers } from '../src/enricher';
import { startConsumers } from '../../../test/support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import {
  canonicalEvent,
  SealingPublisher,
  testOpener,
  testPrivacyKey,
  testPseudonymOf,
} from '../../../test/support/privacy';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { WechatGate } from '../../../test/support/wechat-gate';
import { testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: 'silent' });
const account = testAccount();
// The consumers' opener reads keys under the test key: the gateway and the publishers use it too.
const privacyKey = testPrivacyKey;
const database = uniqueName('enricher');
let mongo: MongoConnection;
let gateway: RunningGateway;
let emulator: RunningEmulator;
let publisher: EventPublisher;
let sealing: SealingPublisher;
let profileEvents: TopicReader;
const consumers: RunningConsumer[] = [];

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(database), 'enricher-test');
  // Users' data keys live in the test's own store, which the gateway and every consumer share.
  gateway = await startGateway([account], { keysDb: mongo.db });
  emulator = await startEmulator([account], { gatewayUrl: gateway.url });
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'enricher-test', logger });
  publisher = await EventPublisher.connect(kafka);
  sealing = await SealingPublisher.connect(kafka, mongo.db);
  profileEvents = await TopicReader.start(Topics.profiles, undefined, { opener: testOpener(mongo.db) });
  const api = new WechatApiClient({
    baseUrl: emulator.baseUrl,
    secretOf: () => account.appSecret,
    tokenCollection: mongo.db.collection('wechat_access_tokens'),
  });
  consumers.push(
    ...(await startConsumers(
      'profile-enricher',
      kafka,
      mongo,
      profileEnricherConsumers({
        api,
        publisher,
        keys: new DataKeyStore(mongo.db, privacyKey),
        logger,
        maxAgeSeconds: 3600,
        graceSecondsOf: () => 0,
      }),
    )),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await sealing?.disconnect();
  await profileEvents?.stop();
  await emulator?.close();
  await gateway?.close();
  await mongo?.close();
});

/** The profiles collection the read-model pointer names (a replay switches it). */
const profiles = async () =>
  mongo.db.collection(
    (await activeCollections(mongo.db, 'profile-enricher', { profiles: ReadModels.profiles })).profiles,
  );
const profileOf = async (openId: string) =>
  (await profiles()).findOne({ _id: testPseudonymOf(account.appId, openId) } as never);

/** A follow of a user the emulator knows, published as the gateway would, `secondsAgo` old. */
async function follow(openId: string, secondsAgo = 0): Promise<string> {
  const event = canonicalEvent(account.appId, {
    ToUserName: account.originalId ?? 'gh',
    FromUserName: openId,
    CreateTime: String(Math.floor(Date.now() / 1000) - secondsAgo),
    MsgType: 'event',
    Event: 'subscribe',
  });
  await sealing.publish(event);
  return event.id;
}

async function emulatedUser(name: string): Promise<string> {
  const created = await emulator.control('users', { appId: account.appId, users: [{ name }] });
  return (created.body.users as { openId: string }[])[0]!.openId;
}

describe('profile enricher', () => {
  it('fetches the profile of a new follower, and erases it when they leave', async () => {
    // A client of its own, as another process would have, sharing the token collection.
    const { ticket } = await new WechatApiClient({
      baseUrl: emulator.baseUrl,
      secretOf: () => account.appSecret,
      tokenCollection: mongo.db.collection('wechat_access_tokens'),
    }).createQrCode(account.appId, { kind: 'permanent', scene: 'store-12' });
    const user = uniqueName('carol');
    const follow = await emulator.control('simulate', { appId: account.appId, user, action: 'scan', ticket });
    const openId = (follow.body as { openId: string }).openId;
    await eventually(async () => {
      expect(await profileOf(openId)).toMatchObject({
        state: 'known',
        openId,
        qrSceneStr: 'store-12',
        subscribeScene: 'ADD_SCENE_QR_CODE',
      });
    }, 15_000);
    const { unionId } = (await profileOf(openId)) as unknown as { unionId: string };
    expect(unionId).toMatch(/^u/);
    // The enricher's user/info used the token the QR code call had fetched: one token, one request.
    expect(await mongo.db.collection('wechat_access_tokens').countDocuments()).toBe(1);
    expect((await emulator.state(account.appId)).tokenRequests).toBe(1);

    await emulator.control('simulate', { appId: account.appId, user, action: 'unfollow' });
    await eventually(async () => expect(await profileOf(openId)).toMatchObject({ state: 'erased' }), 15_000);
    // On the topic: keyed and filed by pseudonym, nothing personal in clear.
    const pseudonym = testPseudonymOf(account.appId, openId);
    const written = await eventually(async () => {
      const mine = profileEvents.of(account.appId).filter((e) => e.event.subject === pseudonym);
      expect(mine.map((e) => e.event.type)).toEqual(['wechat.profile.fetched', 'wechat.profile.erased']);
      return mine;
    }, 15_000);
    for (const { key, stored } of written) {
      expect(key).toBe(pseudonym);
      expect(JSON.stringify(stored)).not.toContain(openId);
      expect(JSON.stringify(stored)).not.toContain(unionId);
    }
    for (const { name } of await mongo.db.listCollections().toArray()) {
      const everything = JSON.stringify(await mongo.db.collection(name).find().toArray());
      expect(everything).not.toContain(openId);
      expect(everything).not.toContain(unionId);
    }
  });

  it("records WeChat's refusal as fetch_failed", async () => {
    await emulator.control('faults', { appId: account.appId, api: 'user/info', errcode: 48001, times: 1 });
    const follow = await emulator.control('simulate', {
      appId: account.appId,
      user: uniqueName('dan'),
      action: 'follow',
    });
    const openId = (follow.body as { openId: string }).openId;
    await eventually(
      async () => expect(await profileOf(openId)).toMatchObject({ state: 'failed', errcode: 48001 }),
      15_000,
    );
  });

  it('backfills every current follower with a progress line, 100 per batchget', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `backfilled-${i}`);
    await emulator.control('users', { appId: account.appId, users: names.map((name) => ({ name })) });
    const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-backfill-')), 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([account]));
    const gate = await WechatGate.start(emulator.baseUrl);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(__dirname, '..', 'dist', 'backfill.js'), '--app', account.appId],
        {
          env: {
            ...process.env,
            MONGO_URL: mongoUrlFor(database),
            PRIVACY_KEY: privacyKey,
            WECHAT_API_BASE: gate.baseUrl,
            WECHAT_ACCOUNTS_FILE: accountsFile,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      // 'close', not 'exit': the output may still be in the pipes when the process has exited.
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    }).finally(() => gate.close());
    const followers = (await emulator.state(account.appId)).users.filter((u) => u.subscribe === 1).length;
    expect(followers).toBeGreaterThanOrEqual(150);
    const batches = gate.calls
      .filter((c) => c.path === '/cgi-bin/user/info/batchget')
      .map((c) => (JSON.parse(c.body) as { user_list: unknown[] }).user_list.length);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(followers);
    expect(Math.max(...batches)).toBe(100);
    expect(batches).toHaveLength(Math.ceil(followers / 100));
    expect(output).toMatch(/backfill .*\d+\/\d+ followers/);
    expect(output).toMatch(/\d+ profiles written/);
    await eventually(async () => {
      const known = await (
        await profiles()
      ).countDocuments({ appId: account.appId, state: 'known' } as never);
      expect(known).toBeGreaterThanOrEqual(150);
    }, 20_000);
  });

  it('leaves follows older than ENRICHER_MAX_AGE_SECONDS to the backfill: no user/info call', async () => {
    const openId = await emulatedUser(uniqueName('old-follower'));
    const old = await follow(openId, 3601);
    const fresh = await follow(openId);
    // One user's events are applied in order: once the fresh follow's profile is out, the old one
    // before it has been handled, and wrote nothing.
    await eventually(
      async () => expect(profileEvents.events.map((e) => e.event.causationid)).toContain(fresh),
      15_000,
    );
    expect(profileEvents.events.filter((e) => e.event.causationid === old)).toEqual([]);
    await eventually(async () => expect(await profileOf(openId)).toMatchObject({ state: 'known' }), 15_000);
  });

  it('replays the profiles from wechat.profiles.v2 into fresh collections, which the live consumer follows', async () => {
    const before = await eventually(async () => {
      const known = await (
        await profiles()
      )
        .find({ appId: account.appId } as never)
        .sort({ _id: 1 })
        .toArray();
      expect(known.length).toBeGreaterThan(0);
      return known;
    });
    const replay = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'replay.js')], {
        env: {
          ...process.env,
          KAFKA_BROKERS: kafkaBrokers().join(','),
          MONGO_URL: mongoUrlFor(database),
          PRIVACY_KEY: privacyKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      child.once('close', (code) => resolve({ code, out }));
    });
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.out).toMatch(/swapped in/);
    const active = await activeCollections(mongo.db, 'profile-enricher', { profiles: ReadModels.profiles });
    expect(active.profiles).toContain('__replay_');
    // The rebuilt model holds what the live one held: every profile this account had by then.
    const after = await (
      await profiles()
    )
      .find({ appId: account.appId } as never)
      .sort({ _id: 1 })
      .toArray();
    // Which events a document remembers depends on what was applied to it: a profile fetched while
    // its user's key existed and then erased was built from two events live, from one in the replay.
    const withoutRecentEvents = (docs: Record<string, unknown>[]) =>
      docs.map(({ recentEvents: _bookkeeping, ...doc }) => doc);
    expect(withoutRecentEvents(after.filter((d) => before.some((b) => b._id === d._id)))).toEqual(
      withoutRecentEvents(before),
    );
    // A follow after the switch lands in the rebuilt collection: the live consumer follows the pointer.
    const openId = await emulatedUser(uniqueName('after-replay'));
    await follow(openId);
    await eventually(async () => expect(await profileOf(openId)).toMatchObject({ state: 'known' }), 15_000);
  }, 120_000);
});
