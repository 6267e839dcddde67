import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CloudEvent } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import { DATA_KEYS_COLLECTION } from '@wxp/privacy';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { toCanonicalEvent } from '../../gateway/src/canonical-event';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { canonicalEvent, testOpener, testPrivacyKey, testPseudonymOf } from '../../../test/support/privacy';
import { TopicReader, type ReadEvent } from '../../../test/support/topic-reader';
import { MigrationRefusedError, migrateLog, type LogMigrationOptions } from '../src/log-migration';

const appId = 'wx-migration';
const follower = 'o-follower-3f9a';
const unfollower = 'o-unfollower-77c1';
const returning = 'o-returning-0b2e';
const openIds = [follower, unfollower, returning];
const texts = [
  'text of the follower',
  'text of the unfollower',
  'old text of the returner',
  'new text of the returner',
];

type Fields = Record<string, string>;
type V1Event = CloudEvent<string, Record<string, unknown>>;

let time = 1_700_000_000;
function push(openId: string, extra: Fields): Fields {
  time += 1;
  return { ToUserName: 'gh_migration', FromUserName: openId, CreateTime: String(time), ...extra };
}
const subscribe = (openId: string) =>
  push(openId, { MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_7' });
const unsubscribe = (openId: string) => push(openId, { MsgType: 'event', Event: 'unsubscribe' });
const text = (openId: string, content: string) =>
  push(openId, { MsgType: 'text', Content: content, MsgId: String(time * 10) });

/** An event as the gateway wrote it to v1: subject, key and id over the openId. */
function v1Event(fields: Fields): V1Event {
  const event = toCanonicalEvent(appId, fields, (_a, openId) => openId);
  return { ...event, dataschema: event.dataschema.replace(/:v2$/, ':v1') } as unknown as V1Event;
}

function v1Profile(type: string, openId: string, causedBy: string, at: number, extra = {}): V1Event {
  return {
    specversion: '1.0',
    id: uniqueName('v1-profile'),
    source: `/wechat/${appId}`,
    type,
    subject: openId,
    time: new Date(at * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: `urn:wxp:schema:${type}:v1`,
    causationid: causedBy,
    data: { appId, openId, causedBy, at, ...extra },
  };
}

const pseudonym = (openId: string) => testPseudonymOf(appId, openId);

describe('npm run migrate-log', () => {
  const kafka = new Kafka({
    brokers: kafkaBrokers(),
    clientId: 'migration-test',
    logLevel: logLevel.NOTHING,
  });
  const topics = {
    events: { from: uniqueName('events-v1'), to: uniqueName('events-v2') },
    profiles: { from: uniqueName('profiles-v1'), to: uniqueName('profiles-v2') },
  };
  let producer: Producer;
  let client: MongoClient;
  let db: Db;
  const written: Record<string, V1Event[]> = { [follower]: [], [unfollower]: [], [returning]: [] };

  async function writeV1(topic: string, events: V1Event[]): Promise<void> {
    await producer.send({
      topic,
      messages: events.map((event) => ({
        key: `${appId}:${event.data.openId as string}`,
        value: JSON.stringify(event),
      })),
    });
  }

  async function writeHistory(openId: string, pushes: Fields[]): Promise<V1Event[]> {
    const events = pushes.map(v1Event);
    written[openId]!.push(...events);
    await writeV1(topics.events.from, events);
    return events;
  }

  const migrate = (extra: Partial<LogMigrationOptions> = {}) =>
    migrateLog({
      kafka: createKafka({
        brokers: kafkaBrokers(),
        clientId: 'log-migration',
        logger: pino({ level: 'silent' }),
      }),
      db,
      privacyKey: testPrivacyKey,
      ...topics,
      ...extra,
    });

  async function readV2(topic: string): Promise<{ reader: TopicReader; events: ReadEvent[] }> {
    const reader = await TopicReader.start(topic, kafkaBrokers(), { opener: testOpener(db) });
    await reader.readToEnd();
    await reader.stop();
    return { reader, events: reader.events };
  }

  const ofUser = (events: ReadEvent[], openId: string) =>
    events.filter((e) => e.stored.subject === pseudonym(openId));

  async function highOffsets(topic: string): Promise<number[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).map((o) => Number(o.high));
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    // A broker that has just started may not yet answer for a new topic's partitions.
    await eventually(
      () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: [topics.events.from, topics.events.to, topics.profiles.from, topics.profiles.to].map(
            (topic) => ({
              topic,
              numPartitions: 3,
            }),
          ),
        }),
      30_000,
      500,
    );
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    client = await new MongoClient(mongoUrlFor(uniqueName('migration'))).connect();
    db = client.db();

    const [followerSubscribe] = await writeHistory(follower, [
      subscribe(follower),
      text(follower, texts[0]!),
      push(follower, { MsgType: 'event', Event: 'CLICK', EventKey: 'menu-a' }),
    ]);
    const [unfollowerSubscribe, , unfollowerUnsubscribe] = await writeHistory(unfollower, [
      subscribe(unfollower),
      text(unfollower, texts[1]!),
      unsubscribe(unfollower),
    ]);
    await writeHistory(returning, [
      subscribe(returning),
      text(returning, texts[2]!),
      unsubscribe(returning),
      subscribe(returning),
      text(returning, texts[3]!),
    ]);
    await writeV1(topics.profiles.from, [
      v1Profile('wechat.profile.fetched', follower, followerSubscribe!.id, time, {
        subscribe: 1,
        unionId: 'union-of-the-follower',
        remark: 'remark of the follower',
        tags: [],
      }),
      v1Profile('wechat.profile.fetched', unfollower, unfollowerSubscribe!.id, time, {
        subscribe: 1,
        unionId: 'union-of-the-unfollower',
        tags: [],
      }),
      v1Profile('wechat.profile.erased', unfollower, unfollowerUnsubscribe!.id, time),
      v1Profile('wechat.profile.fetched', returning, `backfill:run-1:${returning}`, time, {
        subscribe: 1,
        tags: [],
      }),
    ]);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await client?.close();
  });

  it('writes the follower readable in order, the unfollower erased with no key, nothing personal in clear', async () => {
    const summary = await migrate();
    expect(summary.events).toMatchObject({ status: 'migrated', read: 11, sealed: 5, erased: 6, skipped: 0 });
    expect(summary.profiles).toMatchObject({ status: 'migrated', read: 4, sealed: 2, erased: 2 });
    expect(summary.erasedUsers).toBe(1);

    const { events } = await readV2(topics.events.to);
    const followers = ofUser(events, follower);
    // The ids the gateway gives these pushes now, in the order they were written to v1.
    expect(followers.map((e) => e.event.id)).toEqual(
      written[follower]!.map((e) => canonicalEvent(appId, e.data.fields as Fields).id),
    );
    expect(followers.map((e) => e.erased)).toEqual([false, false, false]);
    expect(followers.map((e) => e.event.data.openId)).toEqual([follower, follower, follower]);
    expect((followers[1]!.event.data.fields as Fields).Content).toBe(texts[0]);
    expect(followers.every((e) => e.key === pseudonym(follower))).toBe(true);
    expect(new Set(followers.map((e) => e.partition)).size).toBe(1);

    const unfollowers = ofUser(events, unfollower);
    expect(unfollowers.map((e) => e.event.type)).toEqual([
      'wechat.user.subscribed',
      'wechat.message.received',
      'wechat.user.unsubscribed',
    ]);
    expect(unfollowers.every((e) => e.erased && e.event.data.openId === '')).toBe(true);
    expect(await db.collection(DATA_KEYS_COLLECTION).countDocuments({ user: pseudonym(unfollower) })).toBe(0);

    // What came before the returner's unfollow goes as the platform would have erased it; the rest reads.
    const returners = ofUser(events, returning);
    expect(returners.map((e) => e.erased)).toEqual([true, true, true, false, false]);
    expect((returners[4]!.event.data.fields as Fields).Content).toBe(texts[3]);

    const profiles = (await readV2(topics.profiles.to)).events;
    const [followerProfile] = ofUser(profiles, follower);
    expect(followerProfile!.erased).toBe(false);
    expect(followerProfile!.event.data).toMatchObject({
      openId: follower,
      unionId: 'union-of-the-follower',
      causedBy: followers[0]!.event.id,
    });
    expect(ofUser(profiles, unfollower).map((e) => [e.event.type, e.erased])).toEqual([
      ['wechat.profile.fetched', true],
      ['wechat.profile.erased', true],
    ]);
    const [returnerProfile] = ofUser(profiles, returning);
    expect(returnerProfile!.event.data.causedBy).toBe(`backfill:run-1:${pseudonym(returning)}`);

    const everything = JSON.stringify(
      [...events, ...profiles].map((e) => ({ key: e.key, stored: e.stored })),
    );
    for (const secret of [...openIds, ...texts, 'union-of-the', 'remark of the follower'])
      expect(everything).not.toContain(secret);
    for (const v1 of Object.values(written).flat()) expect(everything).not.toContain(v1.id);
  });

  it('adds nothing when run again', async () => {
    const before = [await highOffsets(topics.events.to), await highOffsets(topics.profiles.to)];
    const summary = await migrate();
    expect(summary.events).toMatchObject({ read: 0, earlier: 11 });
    expect(summary.profiles).toMatchObject({ read: 0, earlier: 4 });
    expect([await highOffsets(topics.events.to), await highOffsets(topics.profiles.to)]).toEqual(before);
  });

  it('copies only what v1 received since, and erases a user who unfollowed since', async () => {
    await writeHistory(follower, [unsubscribe(follower)]);
    const summary = await migrate();
    expect(summary.events).toMatchObject({ read: 1, erased: 1, earlier: 11 });
    expect(summary.keysDestroyed).toBeGreaterThanOrEqual(1);
    const followers = ofUser((await readV2(topics.events.to)).events, follower);
    expect(followers.map((e) => e.erased)).toEqual([true, true, true, true]);
    expect(await db.collection(DATA_KEYS_COLLECTION).countDocuments({ user: pseudonym(follower) })).toBe(0);
  });

  it('refuses a target that holds events it did not write', async () => {
    const occupied = uniqueName('events-v2-occupied');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: occupied, numPartitions: 1 }] });
    await admin.disconnect();
    await producer.send({ topic: occupied, messages: [{ key: 'k', value: '{}' }] });
    await expect(
      migrate({
        events: { from: topics.events.from, to: occupied },
        profiles: { from: uniqueName('none'), to: occupied },
      }),
    ).rejects.toThrow(MigrationRefusedError);
    expect(await highOffsets(occupied)).toEqual([1]);
  });

  it('has nothing to migrate when the v1 topics do not exist', async () => {
    const summary = await migrate({
      events: { from: uniqueName('no-events-v1'), to: topics.events.to },
      profiles: { from: uniqueName('no-profiles-v1'), to: topics.profiles.to },
    });
    expect([summary.events.status, summary.profiles.status]).toEqual(['missing', 'missing']);
  });

  it('as a command, says there is nothing to migrate and succeeds when the v1 topics do not exist', async () => {
    // The test broker is provisioned with the v2 topics only, as a new installation is.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(__dirname, '..', 'dist', 'main.js')],
      {
        env: {
          PATH: process.env.PATH,
          KAFKA_BROKERS: kafkaBrokers().join(','),
          MONGO_URL: mongoUrlFor(uniqueName('migration-cli')),
          PRIVACY_KEY: testPrivacyKey,
        },
      },
    );
    expect(stdout).toBe('wechat.events.v1 and wechat.profiles.v1 do not exist: nothing to migrate\n');
  });

  it('as a command, refuses an option it does not know with exit code 2 and one line', async () => {
    const refused = await promisify(execFile)(
      process.execPath,
      [join(__dirname, '..', 'dist', 'main.js'), '--bogus'],
      {
        env: { PATH: process.env.PATH },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect([refused.code, refused.stderr]).toEqual([
      2,
      "migrate-log: Unknown option '--bogus' (--help for usage)\n",
    ]);
  });
});
