import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadLetterTopicOf, topicCatalogue, Topics } from '@wxp/contracts';
import {
  createKafka,
  provisionTopics,
  startEventConsumer,
  type ConsumedEvent,
  type Kafka,
  type RunningConsumer,
} from '@wxp/kafka';
import { Kafka as KafkaClient, logLevel, type Producer } from 'kafkajs';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { startKafkaBroker, type RunningKafkaBroker } from '../packages/devstack/src/kafka-broker';
import { eventually, uniqueName } from './support/infrastructure';
import { canonicalEvent, closeSharedKeysDb, SealingPublisher, sharedKeysDb } from './support/privacy';
import { TopicReader } from './support/topic-reader';
import { testAccount } from './support/wechat-push';

// A broker that goes away while a consumer has events in hand: the consumer's handler cannot write
// what it derives, its poison events cannot reach the dead-letter topic and its offsets cannot be
// committed. None of that says anything about the events: the consumer retries without limit, sends
// no good event to the dead-letter topic, and once the broker is back every event is applied and
// every poison event dead-lettered. The broker is the test's own, so that it can be stopped.
const account = testAccount();
const dataDir = mkdtempSync(join(tmpdir(), 'wxp-consumer-broker-'));
// A budget of one try: any failure not taken for an outage goes to the dead-letter topic at once.
const budget = 1;
let ports: { port: number; controllerPort: number };
let broker: RunningKafkaBroker | undefined;
let publisher: SealingPublisher | undefined;
let forwarder: Producer | undefined;
let consumer: RunningConsumer | undefined;
const readers: TopicReader[] = [];

const startBroker = () => startKafkaBroker({ dataDir, ...ports, report: () => undefined });

afterAll(async () => {
  await consumer?.stop();
  await Promise.all(readers.map((r) => r.stop()));
  await forwarder?.disconnect();
  await publisher?.disconnect();
  await broker?.stop();
  await closeSharedKeysDb();
}, 60_000);

interface LogRecord {
  msg: string;
  attempt?: number;
  outage?: boolean;
  err?: { type?: string; message?: string };
}

/** Follows of `count` users, published as the gateway publishes them; their event ids. */
async function follows(prefix: string, count: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, n) =>
    canonicalEvent(account.appId, {
      ToUserName: 'gh_broker_outage',
      FromUserName: `${prefix}${n}`,
      CreateTime: String(Math.floor(Date.now() / 1000)),
      MsgType: 'event',
      Event: 'subscribe',
    }),
  );
  await Promise.all(events.map((event) => publisher!.publish(event)));
  return events.map((e) => e.id);
}

/** Whether the group has committed every partition of the events topic up to its end. */
async function committedToEnd(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(Topics.events);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [Topics.events] });
    for (const { partition, high } of ends) {
      const at = committed!.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      if (Number(high) > 0) expect({ partition, committed: at }).toEqual({ partition, committed: high });
    }
  } finally {
    await admin.disconnect();
  }
}

describe('a consumer whose broker goes away', () => {
  it('takes a failed write for an outage, restarts while it cannot fetch or commit; all is applied after', async () => {
    ports = { port: await freePort(), controllerPort: await freePort() };
    broker = await startBroker();
    const records: LogRecord[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => records.push(JSON.parse(line)) });
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'broker-outage-test', logger });
    const used = [Topics.events, deadLetterTopicOf(Topics.events), Topics.profiles] as string[];
    await provisionTopics(
      kafka,
      topicCatalogue.filter((t) => used.includes(t.name)),
      logger,
    );
    publisher = await SealingPublisher.connect(kafka, await sharedKeysDb());
    // Poison first: in its partition, a poison event is tried, and then dead-lettered, before the
    // good events behind it.
    const poison = new Set(await follows('oPoison', 4));
    const good = await follows('oGood', 30);

    // The handler forwards each event (as the topic holds it: sealed) to wechat.profiles.v2, as the
    // enricher writes what it derives,
    // with a producer that gives up after one quick retry, so that its failure comes within seconds.
    forwarder = new KafkaClient({
      brokers: broker.brokers,
      clientId: 'forwarder',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 500,
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
    }).producer({ allowAutoTopicCreation: false });
    await forwarder.connect();
    // Every call waits until the broker has gone: the consumer has these events in hand then.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const handleBatch = async (events: ConsumedEvent[]) => {
      holding += 1;
      await released;
      if (events.some((e) => poison.has(e.event.id))) throw new Error('poison event');
      await forwarder!.send({
        topic: Topics.profiles,
        acks: -1,
        messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e.event) })),
      });
    };
    const groupId = uniqueName('broker-outage');
    consumer = await startEventConsumer({
      kafka,
      groupId,
      topics: [Topics.events],
      logger,
      handleBatch,
      retry: { attempts: budget, baseDelayMs: 20, maxDelayMs: 200 },
    });
    await eventually(async () => expect(holding).toBeGreaterThan(0), 60_000, 50);

    await broker.stop();
    release();
    const retries = () => records.filter((r) => r.msg === 'batch failed, retrying');
    const outages = () => retries().filter((r) => r.outage);
    // The handler's failed write is taken for an outage: retried, where a failure of any other kind
    // would have gone to the dead-letter topic at its first try.
    await eventually(async () => expect(outages().length).toBeGreaterThan(0), 60_000, 100).catch(
      (error: unknown) => {
        const failures = retries().map((r) => `${r.err?.type}: ${r.err?.message}`);
        throw new Error(`${(error as Error).message}\nfailures seen: ${[...new Set(failures)].join(' | ')}`);
      },
    );
    // What the consumer itself does with the broker (fetch, commit, dead-letter) gives up too: it
    // restarts rather than stopping for good.
    await eventually(
      async () => expect(records.filter((r) => r.msg === 'consumer crashed')).not.toHaveLength(0),
      90_000,
      250,
    );

    broker = await startBroker();
    const forwarded = await TopicReader.start(Topics.profiles, broker.brokers);
    const deadLetters = await TopicReader.start(deadLetterTopicOf(Topics.events), broker.brokers);
    readers.push(forwarded, deadLetters);
    // A group's first join on a broker that has just restarted can take a while on a loaded machine.
    await eventually(
      async () => {
        const applied = new Set(forwarded.of(account.appId).map((e) => e.event.id));
        expect(good.filter((id) => !applied.has(id))).toEqual([]);
        const dead = new Set(deadLetters.of(account.appId).map((e) => e.event.id));
        expect([...poison].filter((id) => !dead.has(id))).toEqual([]);
      },
      90_000,
      250,
    );
    await eventually(() => committedToEnd(kafka, groupId), 60_000, 250);
    await deadLetters.readToEnd();
    // Every event the consumer sent to the dead-letter topic was a poison one; none for the outage.
    expect(new Set(deadLetters.of(account.appId).map((e) => e.event.id))).toEqual(poison);
    expect(retries().filter((r) => !r.outage && r.err?.message !== 'poison event')).toEqual([]);
    expect(forwarded.of(account.appId).some((e) => poison.has(e.event.id))).toBe(false);
  }, 240_000);
});
