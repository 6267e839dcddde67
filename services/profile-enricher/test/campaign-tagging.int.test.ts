import { CampaignCreated, Topics, type WechatEvent } from '@wxp/contracts';
import { EventPublisher, createKafka, type Kafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { DataKeyStore } from '@wxp/privacy';
import { WechatApiClient } from '@wxp/wechat-api';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { CAMPAIGN_TAGS_COLLECTION, campaignTagId } from '../src/campaign-tags';
import { profileEnricherConsumers } from '../src/enricher';
import { caughtUp, startConsumers, type TestConsumer } from '../../../test/support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import {
  canonicalEvent,
  SealingPublisher,
  testOpener,
  testPrivacyKey,
  testPseudonymOf,
} from '../../../test/support/privacy';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { TopicReader } from '../../../test/support/topic-reader';
import { testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: 'silent' });
const account = testAccount();
const { appId } = account;
const scene = 'spring-fair';
const tagName = '春季展会 spring fair';
let kafka: Kafka;
let mongo: MongoConnection;
let emulator: RunningEmulator;
let publisher: EventPublisher;
let sealing: SealingPublisher;
let profileEvents: TopicReader;
let consumers: TestConsumer[] = [];

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('tagging')), 'tagging-test');
  emulator = await startEmulator([account]);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'tagging-test', logger });
  publisher = await EventPublisher.connect(kafka);
  sealing = await SealingPublisher.connect(kafka, mongo.db);
  profileEvents = await TopicReader.start(Topics.profiles, undefined, { opener: testOpener(mongo.db) });
  const api = new WechatApiClient({
    baseUrl: emulator.baseUrl,
    secretOf: () => account.appSecret,
    tokenCollection: mongo.db.collection('wechat_access_tokens'),
    retry: { deadlineMs: 2000, baseDelayMs: 10, maxDelayMs: 100 },
  });
  consumers = await startConsumers(
    'profile-enricher',
    kafka,
    mongo,
    profileEnricherConsumers({
      api,
      publisher,
      keys: new DataKeyStore(mongo.db, testPrivacyKey),
      logger,
      maxAgeSeconds: 3600,
      graceSecondsOf: () => 0,
    }),
  );
  await publisher.publish({
    topic: Topics.admin,
    key: appId,
    event: {
      specversion: '1.0',
      id: randomUUID(),
      source: `/wechat/${appId}`,
      type: CampaignCreated.type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      dataschema: CampaignCreated.dataschema,
      data: {
        appId,
        scene,
        kind: 'permanent',
        ticket: 'ticket-spring',
        url: 'http://weixin.qq.com/q/spring',
        createdAt: new Date().toISOString(),
        tag: tagName,
        actor: 'admin-token',
      },
    },
  });
  await eventually(
    async () =>
      expect(
        await mongo.db
          .collection(CAMPAIGN_TAGS_COLLECTION)
          .findOne({ _id: campaignTagId(appId, scene) } as never),
      ).toMatchObject({ tag: tagName }),
    30_000,
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await sealing?.disconnect();
  await profileEvents?.stop();
  await emulator?.close();
  await mongo?.close();
});

async function emulatedUser(name: string): Promise<string> {
  const created = await emulator.control('users', { appId, users: [{ name }] });
  return (created.body.users as { openId: string }[])[0]!.openId;
}

/** A follow through the campaign's code, sealed as the gateway seals it. */
const followThroughCode = (openId: string): Promise<WechatEvent> =>
  sealing.seal(
    canonicalEvent(appId, {
      ToUserName: account.originalId ?? 'gh',
      FromUserName: openId,
      CreateTime: String(Math.floor(Date.now() / 1000)),
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: `qrscene_${scene}`,
      Ticket: 'ticket-spring',
    }),
  );

const taggingEventsOf = (openId: string) =>
  profileEvents
    .of(appId)
    .filter(
      (e) =>
        e.event.subject === testPseudonymOf(appId, openId) && e.event.type.startsWith('wechat.profile.tagg'),
    );

const landed = (openId: string) =>
  eventually(async () => {
    const found = taggingEventsOf(openId);
    if (found.length === 0) throw new Error('no tagging event yet');
    return found[0]!;
  }, 30_000);

const callsOf = async (api: string) => (await emulator.state(appId)).calls?.[api] ?? 0;

/** Everything published so far has been handled, and every event written since has been read. */
async function settled(): Promise<void> {
  await caughtUp(kafka, consumers);
  await profileEvents.readToEnd();
}

describe('campaign tags', () => {
  it('tags a follower who came in through a tagged code, and reuses the tag for the next', async () => {
    const alice = await emulatedUser(uniqueName('alice'));
    const follow = await followThroughCode(alice);
    await sealing.publishSealed(follow);
    const tagged = await landed(alice);
    expect(tagged.key).toBe(testPseudonymOf(appId, alice));
    expect(tagged.event).toMatchObject({
      type: 'wechat.profile.tagged',
      subject: testPseudonymOf(appId, alice),
      causationid: follow.id,
      data: { appId, tagName, scene, causedBy: follow.id },
    });
    // Nothing personal: no openId anywhere in what was written.
    expect(JSON.stringify(tagged.stored)).not.toContain(alice);
    const tagId = tagged.event.data.tagId as number;
    const state = await emulator.state(appId);
    expect(state.tags).toEqual([{ id: tagId, name: tagName, count: 1 }]);
    expect(state.users.find((u) => u.openId === alice)?.tags).toEqual([tagId]);

    const bob = await emulatedUser(uniqueName('bob'));
    await sealing.publishSealed(await followThroughCode(bob));
    expect((await landed(bob)).event).toMatchObject({ type: 'wechat.profile.tagged', data: { tagId } });
    expect((await emulator.state(appId)).tags).toEqual([{ id: tagId, name: tagName, count: 2 }]);
    expect(await callsOf('tags/create')).toBe(1);
  });

  it("records WeChat's refusal as tagging_failed, once, without trying again", async () => {
    const carol = await emulatedUser(uniqueName('carol'));
    const before = await callsOf('tags/members/batchtagging');
    await emulator.control('faults', { appId, api: 'tags/members/batchtagging', errcode: 45059, times: 1 });
    const follow = await followThroughCode(carol);
    await sealing.publishSealed(follow);
    expect((await landed(carol)).event).toMatchObject({
      type: 'wechat.profile.tagging_failed',
      data: { appId, tagName, scene, errcode: 45059, causedBy: follow.id },
    });
    await settled();
    expect(await callsOf('tags/members/batchtagging')).toBe(before + 1);
    expect(taggingEventsOf(carol)).toHaveLength(1);
    expect((await emulator.state(appId)).users.find((u) => u.openId === carol)?.tags).toEqual([]);
  });

  it('tags once and writes one event for a follow delivered twice', async () => {
    const dan = await emulatedUser(uniqueName('dan'));
    const before = await callsOf('tags/members/batchtagging');
    const follow = await followThroughCode(dan);
    await sealing.publishSealed(follow);
    await landed(dan);
    await sealing.publishSealed(follow);
    await settled();
    expect(taggingEventsOf(dan).map((e) => e.event.id)).toHaveLength(1);
    expect(await callsOf('tags/members/batchtagging')).toBe(before + 1);
  });

  it('retries a busy WeChat (-1) until the follower is tagged', async () => {
    const erin = await emulatedUser(uniqueName('erin'));
    await emulator.control('faults', { appId, api: 'tags/members/batchtagging', errcode: -1, times: 2 });
    await sealing.publishSealed(await followThroughCode(erin));
    expect((await landed(erin)).event.type).toBe('wechat.profile.tagged');
    expect((await emulator.state(appId)).users.find((u) => u.openId === erin)?.tags).toHaveLength(1);
  });
});
