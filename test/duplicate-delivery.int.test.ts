import { randomUUID } from 'node:crypto';
import { ReadModels, Topics, notUserActionTypes, type WechatEvent } from '@wxp/contracts';
import { createKafka, type Kafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { profilesBehaviour } from '../services/profile-enricher/src/enricher';
import {
  profileErased,
  profileFetched,
  profileFetchFailed,
} from '../services/profile-enricher/src/profile-events';
import { qrAttributionConsumers } from '../services/qr-attribution/src/attribution-service';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import { kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import {
  canonicalEvent,
  closeSharedKeysDb,
  SealingPublisher,
  sharedKeysDb,
  testPrivacyKey,
  testPseudonymOf,
} from './support/privacy';
import { caughtUp, startConsumers, type TestConsumer } from './support/running-consumers';
import { documentedPushBody, documentedPushes } from './support/documented-pushes';
import { parseXmlPush } from '../services/gateway/src/push-parser';

/**
 * The same history for two accounts: once for one, every event stored twice for the other (the copy
 * at a later offset, after the user's next event), as when a push answered 503 was stored anyway or
 * two gateways each took one of WeChat's tries. Every read model must come out the same.
 */
const once = uniqueName('wxdeliveredonce');
const twice = uniqueName('wxdeliveredtwice');
const users = ['oDupAlice', 'oDupBob', 'oDupCarol'];
const start = 1_764_547_200;

let kafka: Kafka;
let mongo: MongoConnection;
let publisher: SealingPublisher;
let consumers: TestConsumer[] = [];

beforeAll(async () => {
  kafka = createKafka({
    brokers: kafkaBrokers(),
    clientId: 'duplicate-delivery-test',
    logger: pino({ level: 'silent' }),
  });
  mongo = await connectMongo(mongoUrlFor(uniqueName('duplicates')), 'duplicate-delivery-test');
  const keysDb = await sharedKeysDb();
  publisher = await SealingPublisher.connect(kafka, keysDb);
  consumers = [
    ...(await startConsumers(
      'subscriber-projection',
      kafka,
      mongo,
      subscriberProjectionConsumers(testPrivacyKey),
      keysDb,
    )),
    ...(await startConsumers('qr-attribution', kafka, mongo, qrAttributionConsumers(), keysDb)),
    ...(await startConsumers('profile-enricher', kafka, mongo, [profilesBehaviour()], keysDb)),
  ];
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await mongo?.close();
  await closeSharedKeysDb();
});

function push(appId: string, openId: string, at: number, fields: Record<string, unknown>): WechatEvent {
  return canonicalEvent(appId, {
    ...fields,
    ToUserName: 'gh_duplicates',
    FromUserName: openId,
    CreateTime: String(start + at),
  }) as WechatEvent;
}

const event = (name: string, extra: Record<string, string> = {}) => ({
  MsgType: 'event',
  Event: name,
  ...extra,
});

/** Every type of the events topic, for three users; the same for either account. */
function history(appId: string): WechatEvent[] {
  const [alice, bob, carol] = users as [string, string, string];
  return [
    push(appId, alice, 1, event('subscribe', { EventKey: 'qrscene_spring', Ticket: 'T1' })),
    push(appId, bob, 2, event('subscribe')),
    push(appId, carol, 3, event('subscribe', { EventKey: 'qrscene_spring', Ticket: 'T1' })),
    push(appId, alice, 4, event('SCAN', { EventKey: 'summer', Ticket: 'T2' })),
    push(appId, bob, 5, event('SCAN', { EventKey: 'spring', Ticket: 'T1' })),
    push(appId, bob, 6, event('SCAN', { EventKey: 'spring', Ticket: 'T1' })),
    push(appId, alice, 7, event('CLICK', { EventKey: 'MENU_A' })),
    push(appId, alice, 8, event('VIEW', { EventKey: 'https://example.test/a', MenuId: '7' })),
    push(appId, bob, 9, { MsgType: 'text', Content: 'hello', MsgId: '6972028683187026694' }),
    push(appId, carol, 10, event('LOCATION', { Latitude: '23.1', Longitude: '113.3', Precision: '65' })),
    push(appId, alice, 11, event('unsubscribe')),
    push(appId, carol, 12, event('unsubscribe')),
    push(appId, alice, 13, event('subscribe', { EventKey: 'qrscene_autumn', Ticket: 'T3' })),
    {
      specversion: '1.0',
      id: randomUUID(),
      source: `/wechat/${appId}`,
      type: 'wechat.user.erased',
      subject: testPseudonymOf(appId, bob),
      time: new Date((start + 14) * 1000).toISOString(),
      datacontenttype: 'application/json',
      dataschema: 'urn:wxp:schema:wechat.user.erased:v1',
      data: { appId, requestedAt: start + 14 },
    } as WechatEvent,
    // Every other declared type, from WeChat's documented example of it, for Alice, who follows again.
    ...documentedPushes.map((documented, i) =>
      push(appId, alice, 20 + i, parseXmlPush(documentedPushBody(documented.fixture, 'xml'))),
    ),
  ];
}

/** The profile events the enricher would write for that history. */
function profileHistory(appId: string): WechatEvent[] {
  const [alice, bob, carol] = users as [string, string, string];
  const pseudonym = (openId: string) => testPseudonymOf(appId, openId);
  const fetched = profileFetched(
    appId,
    pseudonym(alice),
    { subscribe: 1, openid: alice, unionid: 'uDupAlice', language: 'zh_CN', tagid_list: [2], remark: 'vip' },
    'cause-1',
  );
  const events = [
    fetched,
    profileFetchFailed(appId, pseudonym(bob), bob, 'cause-2', 48001, 'api unauthorized'),
    profileErased(appId, pseudonym(carol), carol, 'cause-3', start + 12),
  ];
  // Fixed times, so that the two accounts' profiles can be compared.
  return events.map((e) => ({
    ...e,
    time: new Date(start * 1000).toISOString(),
    data: { ...e.data, at: start },
  })) as never;
}

/** Seals each event once and stores it once, or twice with the copy after the user's next event. */
async function store(events: WechatEvent[], topic: string, copies: 1 | 2): Promise<number> {
  const sealed = [];
  for (const e of events) sealed.push(await publisher.seal(e));
  let stored = 0;
  const pendingCopy = new Map<string, WechatEvent>();
  for (const e of sealed) {
    await publisher.publishSealed(e, topic);
    stored++;
    const copy = pendingCopy.get(e.subject!);
    if (copy) {
      await publisher.publishSealed(copy, topic);
      stored++;
    }
    if (copies === 2) pendingCopy.set(e.subject!, e);
  }
  for (const copy of pendingCopy.values()) {
    await publisher.publishSealed(copy, topic);
    stored++;
  }
  return stored;
}

type Doc = Record<string, unknown>;

/** One account's read models with what differs between accounts left out: users by openId-free name. */
async function readModelsOf(appId: string): Promise<Record<string, unknown>> {
  const name = new Map(users.map((u) => [testPseudonymOf(appId, u), u]));
  const byUser = async (collection: string) => {
    const docs = await mongo.db.collection<Doc>(collection).find({ appId }).toArray();
    return Object.fromEntries(
      docs
        .map((doc) => {
          const {
            _id,
            appId: _app,
            position: _p,
            recentEvents: _r,
            lastEventId: _l,
            causedBy: _c,
            ...rest
          } = doc;
          return [name.get(String(_id)) ?? `unknown ${String(_id)}`, rest] as const;
        })
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  };
  /** Figures per partition, added up per key (the account's partitions depend on its pseudonyms). */
  const summed = async (collection: string, keyOf: (doc: Doc) => string) => {
    const totals: Record<string, Record<string, unknown>> = {};
    const add = (into: Record<string, unknown>, from: Doc) => {
      for (const [field, value] of Object.entries(from)) {
        if (typeof value === 'number') into[field] = ((into[field] as number | undefined) ?? 0) + value;
        else if (value && typeof value === 'object' && !Array.isArray(value))
          add((into[field] ??= {}) as Record<string, unknown>, value as Doc);
      }
    };
    for (const doc of await mongo.db.collection<Doc>(collection).find({ appId }).toArray()) {
      const { _id, appId: _app, position: _p, partition: _part, ...figures } = doc;
      add((totals[keyOf(doc)] ??= {}), figures);
    }
    return totals;
  };
  return {
    subscribers: await byUser(ReadModels.subscribers),
    followerCounts: await summed(ReadModels.followerCounts, () => 'account'),
    attributionUsers: await byUser(ReadModels.attributionUsers),
    campaignCounts: await summed(ReadModels.campaignCounts, (doc) => String(doc.scene)),
    attributionJourneys: await byUser(ReadModels.attributionJourneys),
    campaignFunnels: await summed(ReadModels.campaignFunnels, (doc) => String(doc.scene)),
    profiles: await byUser(ReadModels.profiles),
  };
}

describe('an event stored twice on a topic', () => {
  it('changes no read model: every one comes out as from a single delivery', async () => {
    const storedOnce =
      (await store(history(once), Topics.events, 1)) +
      (await store(profileHistory(once), Topics.profiles, 1));
    const storedTwice =
      (await store(history(twice), Topics.events, 2)) +
      (await store(profileHistory(twice), Topics.profiles, 2));
    expect(storedTwice).toBe(2 * storedOnce);
    await caughtUp(kafka, consumers);

    const single = await readModelsOf(once);
    const doubled = await readModelsOf(twice);
    // The single delivery is what the history means: two scans of spring by Bob, both followers
    // spring brought in (Alice, Carol) gone, Alice back through autumn.
    expect(single.campaignCounts).toMatchObject({
      spring: { scans: 2, subscribes: 2, returning: 0, unsubscribes: 2 },
      summer: { scans: 1 },
      autumn: { returning: 1 },
    });
    // Spring's funnel: two follows and Bob's two scans, Alice's click within a day (Carol only sent
    // her location), both gone within the week.
    expect(Object.values((single.campaignFunnels as Record<string, { days: object }>).spring!.days)).toEqual([
      {
        scans: 4,
        newFollows: 2,
        returningFollows: 0,
        engagedWithin24h: 1,
        unfollowedWithin7d: 2,
        unfollowedWithin30d: 2,
      },
    ]);
    expect(Object.keys(single.subscribers as object)).toEqual(users);
    expect(Object.keys(single.profiles as object)).toEqual(users);
    // Alice's last activity is her last push of her own doing, not the receipts after it.
    const lastOwnPush = documentedPushes.findLastIndex((p) => !notUserActionTypes.has(p.type as never));
    expect((single.subscribers as Record<string, Doc>).oDupAlice?.lastActivityAt).toEqual(
      new Date((start + 20 + lastOwnPush) * 1000),
    );
    expect(doubled).toEqual(single);
  });
});
