import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { deadLetterTopicOf, ReadModels, Topics } from '@wxp/contracts';
import { openingHandler } from '@wxp/consumer-service';
import { createKafka, startEventConsumer, type RunningConsumer } from '@wxp/kafka';
import { sealEventAsErased } from '@wxp/privacy';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { canonicalEvent, SealingPublisher, testOpener, testPrivacyKey } from './support/privacy';
import { StoreGate } from './support/store-gate';
import { TopicReader } from './support/topic-reader';
import { testAccount } from './support/wechat-push';

// A store that goes away under a running consumer: the service says so on /healthz, its batches
// wait for the store instead of sending events to the dead-letter topic, and once the store is back
// the events are applied.
const silent = pino({ level: 'silent' });
// The in-process consumer opens events with the test key: the service process uses it too.
const privacyKey = testPrivacyKey;
const database = uniqueName('outage');
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'outage-test', logger: silent });
let publisher: SealingPublisher | undefined;
let gate: StoreGate | undefined;
let service: ChildProcess | undefined;
let consumer: RunningConsumer | undefined;
let store: MongoClient | undefined;
let viaGate: MongoClient | undefined;
let deadLetters: TopicReader | undefined;

beforeAll(async () => {
  gate = await StoreGate.start(mongoUrlFor(database));
  store = await new MongoClient(mongoUrlFor(database)).connect();
  // Users' data keys go to the consumers' own store, as the gateway's go to the deployment's.
  publisher = await SealingPublisher.connect(kafka, store.db());
});

afterAll(async () => {
  service?.kill('SIGKILL');
  await consumer?.stop();
  await deadLetters?.stop();
  await viaGate?.close();
  await store?.close();
  await gate?.close();
  await publisher?.disconnect();
});

/** Follows of `count` users of the account, published as the gateway publishes them. */
async function follows(appId: string, prefix: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, n) => {
      const event = canonicalEvent(appId, {
        ToUserName: 'gh_outage',
        FromUserName: `${prefix}${n}`,
        CreateTime: String(Math.floor(Date.now() / 1000)),
        MsgType: 'event',
        Event: 'subscribe',
      });
      return publisher!.publish(event);
    }),
  );
}

const followers = (appId: string) => store!.db().collection(ReadModels.subscribers).countDocuments({ appId });

/** One sample of a Prometheus text exposition, or 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('a consumer whose store goes away', () => {
  it('answers /healthz with 503 naming the store while it is cut, and exposes metrics that move', async () => {
    const account = testAccount();
    const port = await freePort();
    const group = uniqueName('subscriber-projection');
    service = spawn(
      process.execPath,
      [join(__dirname, '..', 'services', 'subscriber-projection', 'dist', 'main.js')],
      {
        env: {
          ...process.env,
          MONGO_URL: gate!.urlFor(mongoUrlFor(database)),
          PRIVACY_KEY: privacyKey,
          SUBSCRIBER_PROJECTION_GROUP: group,
          SUBSCRIBER_PROJECTION_PORT: String(port),
          LOG_LEVEL: 'error',
        },
        stdio: 'ignore',
      },
    );
    const base = `http://127.0.0.1:${port}`;
    const health = async () => {
      const response = await fetch(`${base}/healthz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const metrics = async () => (await fetch(`${base}/metrics`)).text();

    await eventually(async () => expect(await health()).toMatchObject({ status: 200 }), 30_000, 250);
    const before = await metrics();
    await follows(account.appId, 'oHealth', 20);
    await eventually(async () => expect(await followers(account.appId)).toBe(20), 30_000, 250);

    const after = await eventually(async () => {
      const text = await metrics();
      const grouped = `group="${group}"`;
      expect(
        sample(text, 'wxp_consumer_events_total', 'outcome="applied"') -
          sample(before, 'wxp_consumer_events_total', 'outcome="applied"'),
      ).toBeGreaterThanOrEqual(20);
      for (const histogram of ['wxp_consumer_batch_seconds_count', 'wxp_consumer_apply_seconds_count']) {
        expect(sample(text, histogram, grouped)).toBeGreaterThan(sample(before, histogram, grouped));
      }
      return text;
    }, 15_000);
    const lags = after.split('\n').filter((l) => l.startsWith('wxp_consumer_lag{') && l.includes(group));
    expect(lags.length).toBeGreaterThan(0);
    expect(lags.some((l) => l.includes(`topic="${Topics.events}"`))).toBe(true);

    gate!.cut();
    // The store's ping waits for server selection (10 s) before it fails.
    const down = await eventually(
      async () => {
        const answer = await health();
        expect(answer.status).toBe(503);
        return answer.body;
      },
      60_000,
      250,
    );
    expect(down.status).toBe('unavailable');
    const checks = down.checks as Record<string, string>;
    expect(Object.keys(checks)).toEqual(['mongo', 'consumers']);
    expect(checks.mongo).not.toBe('ok');
    // A store outage is waited out, not given up on: the consumers themselves are still well.
    expect(checks.consumers).toBe('ok');

    gate!.restore();
    await eventually(async () => expect(await health()).toMatchObject({ status: 200 }), 60_000, 250);
  }, 180_000);

  it('retries batches through a store outage without limit: nothing goes to the DLQ, all is applied after', async () => {
    const account = testAccount();
    deadLetters = await TopicReader.start(deadLetterTopicOf(Topics.events));
    // Short timeouts and a budget of two tries, so that the test runs far past the budget in seconds.
    viaGate = await new MongoClient(gate!.urlFor(mongoUrlFor(database)), {
      serverSelectionTimeoutMS: 300,
    }).connect();
    const [behaviour] = subscriberProjectionConsumers(privacyKey);
    await behaviour!.prepare(viaGate.db());
    const retries: { attempt: number; outage: boolean }[] = [];
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          const record = JSON.parse(line) as { msg: string; attempt: number; outage: boolean };
          if (record.msg === 'batch failed, retrying') retries.push(record);
        },
      },
    );
    consumer = await startEventConsumer({
      kafka,
      groupId: uniqueName('outage-consumer'),
      topics: [Topics.events],
      logger,
      // Keys are read through the gate too: the outage reaches the opening of a batch as well.
      handleBatch: openingHandler(behaviour!.handler(viaGate.db()), testOpener(viaGate.db())),
      retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 200 },
    });
    await consumer.joined;
    await follows(account.appId, 'oBefore', 5);
    await eventually(async () => expect(await followers(account.appId)).toBe(5), 30_000, 250);

    gate!.cut();
    await follows(account.appId, 'oDuring', 10);
    // A batch tried far past the budget of two tries, every try counted as an outage. (The count of
    // tries says nothing alone: each partition's batch is tried on its own, and ten follows spread
    // over up to ten partitions make ten first tries.)
    await eventually(
      async () => expect(Math.max(0, ...retries.map((r) => r.attempt))).toBeGreaterThanOrEqual(5),
      60_000,
      100,
    );
    expect(retries.every((r) => r.outage)).toBe(true);
    expect(await followers(account.appId)).toBe(5);

    gate!.restore();
    await eventually(async () => expect(await followers(account.appId)).toBe(15), 60_000, 250);

    // A marker of our own on every partition of the dead-letter topic: once the reader has them
    // all, it has read past anything the consumer could have sent there.
    const marker = testAccount();
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [deadLetterTopicOf(Topics.events)] }))
      .topics;
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const markerEvent = canonicalEvent(marker.appId, {
      ToUserName: 'gh_outage',
      FromUserName: 'oMarker',
      CreateTime: String(Math.floor(Date.now() / 1000)),
      MsgType: 'event',
      Event: 'subscribe',
    });
    await producer.send({
      topic: deadLetterTopicOf(Topics.events),
      messages: metadata!.partitions.map((p) => ({
        partition: p.partitionId,
        key: markerEvent.subject!,
        value: JSON.stringify(sealEventAsErased(markerEvent)),
      })),
    });
    await producer.disconnect();
    await eventually(
      async () => expect(deadLetters!.of(marker.appId)).toHaveLength(metadata!.partitions.length),
      30_000,
      250,
    );
    expect(deadLetters.of(account.appId)).toEqual([]);
  }, 180_000);
});
