import {
  CLOUD_EVENT_CONTENT_TYPE,
  Topics,
  topicCatalogue,
  type CloudEvent,
  type TopicSpec,
} from '@wxp/contracts';
import {
  EventPublisher,
  createKafka,
  provisionTopics,
  startEventConsumer,
  type ConsumedEvent,
} from '@wxp/kafka';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { eventually, kafkaBrokers, uniqueName } from '../../../test/support/infrastructure';

// The client suite the broker version is chosen by: admin, idempotent produce, consumer groups and
// commits, all against the real broker of this run.
const logger = pino({ level: 'silent' });
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'kafka-int-test', logger });
const raw = new Kafka({ brokers: kafkaBrokers(), clientId: 'kafka-int-raw', logLevel: logLevel.NOTHING });

function testEvent(n: number, type = 'test.thing.happened'): CloudEvent {
  return {
    specversion: '1.0',
    id: `id-${n}`,
    source: '/test',
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'urn:test',
    data: { n },
  };
}

async function freshTopic(partitions = 3): Promise<TopicSpec> {
  const spec = {
    name: uniqueName('t'),
    partitions,
    config: { 'retention.ms': '-1' },
    key: 'k',
    description: 'test',
  };
  await provisionTopics(kafka, [spec, { ...spec, name: `${spec.name}.dlq` }], logger);
  return spec;
}

/** Publishes events 0 … count-1 concurrently through one publisher, spread over `users` keys. */
async function publishConcurrently(topic: string, count: number, users: number): Promise<void> {
  const publisher = await EventPublisher.connect(kafka);
  await Promise.all(
    Array.from({ length: count }, (_, n) =>
      publisher.publish({ topic, key: `user-${n % users}`, event: testEvent(n) }),
    ),
  );
  await publisher.disconnect();
}

/** TCP connections this process holds open now. */
function openConnections(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
}

/** A consumer on a fresh group that records every call of its handler, until `count` events came. */
async function handlerCalls(
  topic: string,
  count: number,
  options: { groupId?: string; groupEvents?: number } = {},
): Promise<ConsumedEvent[][]> {
  const calls: ConsumedEvent[][] = [];
  const consumer = await startEventConsumer({
    kafka,
    groupId: options.groupId ?? uniqueName('g'),
    topics: [topic],
    logger,
    ...(options.groupEvents === undefined ? {} : { groupEvents: options.groupEvents }),
    handleBatch: async (events) => {
      calls.push(events);
    },
  });
  await eventually(async () => expect(calls.flat()).toHaveLength(count), 20_000);
  await consumer.stop();
  return calls;
}

/** What a group has committed on a topic, summed over the partitions. */
async function committedCount(groupId: string, topic: string): Promise<number> {
  const admin = raw.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    // A partition nothing was written to reports -1: no commit there.
    return offsets[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * 40 events read by a fresh group whose first batch is held by `hold` before it is applied; the
 * ids the handler was given, once all 40 are committed.
 */
async function consumedWithFirstBatchHeld(
  hold: () => Promise<unknown>,
  timeoutMs: number,
): Promise<string[]> {
  const spec = await freshTopic(2);
  const groupId = uniqueName('g');
  await publishConcurrently(spec.name, 40, 4);
  const handled: string[] = [];
  let calls = 0;
  const consumer = await startEventConsumer({
    kafka,
    groupId,
    topics: [spec.name],
    logger,
    handleBatch: async (events) => {
      calls += 1;
      if (calls === 1) await hold();
      handled.push(...events.map((e) => e.event.id));
    },
  });
  try {
    await eventually(async () => expect(await committedCount(groupId, spec.name)).toBe(40), timeoutMs);
    return handled;
  } finally {
    await consumer.stop();
  }
}

async function readAll(topic: string, count: number) {
  const consumer = raw.consumer({ groupId: uniqueName('g') });
  const read: { value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      read.push({
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  await eventually(async () => expect(read).toHaveLength(count), 20_000);
  await consumer.disconnect();
  return read;
}

describe('Kafka broker with kafkajs', () => {
  it('has the declared topics, with the system of record kept forever', async () => {
    const admin = raw.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      for (const spec of topicCatalogue) expect(topics).toContain(spec.name);
      const metadata = await admin.fetchTopicMetadata({ topics: [Topics.events] });
      expect(metadata.topics[0]?.partitions).toHaveLength(12);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: Topics.events, configNames: ['retention.ms'] }],
      });
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('-1');
    } finally {
      await admin.disconnect();
    }
  });

  it('provisions idempotently, never changes a partition count, and never auto-creates topics', async () => {
    const spec = await freshTopic(4);
    // Asked again, with a different partition count: the topic is left as it is.
    const again = await provisionTopics(kafka, [{ ...spec, partitions: 8 }], logger);
    expect(again).toEqual({ created: [], existing: [spec.name] });
    const admin = raw.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [spec.name] });
      expect(metadata.topics[0]?.partitions).toHaveLength(4);
      const missing = uniqueName('missing');
      const producer = raw.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
      await producer.connect();
      await expect(producer.send({ topic: missing, messages: [{ value: 'x' }] })).rejects.toThrow();
      await producer.disconnect();
      // A consumer of ours subscribing to it does not create it either, and leaves no connection open.
      const connectionsBefore = openConnections();
      const consumer = await startEventConsumer({
        kafka,
        groupId: uniqueName('g'),
        topics: [missing],
        logger,
        handleBatch: async () => undefined,
      }).catch((error: unknown) => error);
      if (!(consumer instanceof Error)) await (consumer as { stop(): Promise<void> }).stop();
      expect(consumer).toBeInstanceOf(Error);
      expect(openConnections()).toBe(connectionsBefore);
      expect(await admin.listTopics()).not.toContain(missing);
    } finally {
      await admin.disconnect();
    }
  });

  it('publishes concurrent events in shared requests, acknowledged, with CloudEvents headers', async () => {
    const spec = await freshTopic(3);
    const count = 300;
    // The publisher's producer, watched: how many produce requests carry the 300 events.
    let produceRequests = 0;
    const watched = Object.assign(Object.create(kafka) as typeof kafka, {
      producer: (config?: Parameters<typeof kafka.producer>[0]) => {
        const producer = kafka.producer(config);
        producer.on(producer.events.REQUEST, (event) => {
          if (event.payload.apiName === 'Produce') produceRequests += 1;
        });
        return producer;
      },
    });
    const publisher = await EventPublisher.connect(watched);
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        publisher.publish({ topic: spec.name, key: `user-${n % 7}`, event: testEvent(n) }),
      ),
    );
    await publisher.disconnect();
    // Shared: while one request is in flight the others queue and leave together.
    expect(produceRequests).toBeGreaterThan(0);
    expect(produceRequests).toBeLessThanOrEqual(count / 10);

    const consumer = raw.consumer({ groupId: uniqueName('g') });
    const received: { key: string; n: number; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: spec.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        received.push({
          key: message.key?.toString() ?? '',
          n: (JSON.parse(message.value?.toString() ?? '{}') as CloudEvent<string, { n: number }>).data.n,
          headers,
        });
      },
    });
    await eventually(async () => expect(received).toHaveLength(count), 20_000);
    await consumer.disconnect();
    expect(received[0]?.headers['content-type']).toBe(CLOUD_EVENT_CONTENT_TYPE);
    expect(received[0]?.headers.ce_type).toBe('test.thing.happened');
    // One key, one partition: each user's events arrive in the order they were published.
    for (let k = 0; k < 7; k++) {
      const ns = received.filter((r) => r.key === `user-${k}`).map((r) => r.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
  });

  it('commits what a group handled, so the next member resumes after it', async () => {
    const spec = await freshTopic(2);
    const groupId = uniqueName('g');
    const publisher = await EventPublisher.connect(kafka);
    for (let n = 0; n < 10; n++)
      await publisher.publish({ topic: spec.name, key: `k${n % 2}`, event: testEvent(n) });

    const firstRun: ConsumedEvent[] = [];
    const first = await startEventConsumer({
      kafka,
      groupId,
      topics: [spec.name],
      logger,
      handleBatch: async (events) => {
        firstRun.push(...events);
      },
    });
    await eventually(async () => expect(firstRun).toHaveLength(10), 20_000);
    await first.stop();

    expect(await committedCount(groupId, spec.name)).toBe(10);

    for (let n = 10; n < 13; n++)
      await publisher.publish({ topic: spec.name, key: `k${n % 2}`, event: testEvent(n) });
    await publisher.disconnect();
    const secondRun: ConsumedEvent[] = [];
    const second = await startEventConsumer({
      kafka,
      groupId,
      topics: [spec.name],
      logger,
      handleBatch: async (events) => {
        secondRun.push(...events);
      },
    });
    await eventually(async () => expect(secondRun).toHaveLength(3), 20_000);
    await second.stop();
    expect(secondRun.map((e) => (e.event.data as { n: number }).n).sort((a, b) => a - b)).toEqual([
      10, 11, 12,
    ]);
  });

  it('keeps its place in the group while a batch takes longer than the session, and commits it', async () => {
    // Longer than the consumer's 10 s session: a member that sent no heartbeat meanwhile is
    // dropped by the coordinator, and its commit is refused.
    const handled = await consumedWithFirstBatchHeld(
      () => new Promise((resolve) => setTimeout(resolve, 12_000)),
      30_000,
    );
    // Applied once: the slow batch was not handed out again after a rebalance.
    expect(new Set(handled).size).toBe(40);
    expect(handled).toHaveLength(40);
  }, 60_000);

  it('rejoins its group when a commit is refused because the member lost its place', async () => {
    // A process that stops answering for longer than the 10 s session (no timer runs, so no
    // heartbeat goes out): the coordinator drops the member and refuses its commit.
    const handled = await consumedWithFirstBatchHeld(async () => {
      const until = Date.now() + 13_000;
      while (Date.now() < until);
    }, 40_000);
    // What was applied but not committed came again after the rejoin.
    expect(new Set(handled).size).toBe(40);
    expect(handled.length).toBeGreaterThan(40);
  }, 70_000);

  it('retries a failing batch, then sends only the poison event and undecodable messages to the DLQ', async () => {
    const spec = await freshTopic(1);
    const producer = raw.producer();
    await producer.connect();
    await producer.send({
      topic: spec.name,
      messages: [
        { key: 'a', value: JSON.stringify(testEvent(1)) },
        { key: 'a', value: 'not json, with secret text' },
        { key: 'a', value: JSON.stringify(testEvent(2)) },
        { key: 'a', value: JSON.stringify(testEvent(3)) },
      ],
    });
    await producer.disconnect();
    let attempts = 0;
    const handled = new Set<number>();
    const consumer = await startEventConsumer({
      kafka,
      groupId: uniqueName('g'),
      topics: [spec.name],
      logger,
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      handleBatch: async (events) => {
        attempts += 1;
        if (attempts === 1) throw new Error('transient');
        if (events.some((e) => (e.event.data as { n: number }).n === 2)) throw new Error('poison event 2');
        for (const e of events) handled.add((e.event.data as { n: number }).n);
      },
    });
    await eventually(async () => expect([...handled].sort()).toEqual([1, 3]), 30_000);
    const dead = await readAll(`${spec.name}.dlq`, 2);
    await consumer.stop();
    expect(dead.map((d) => d.headers['x-dlq-error'])).toEqual(['undecodable: not JSON', 'poison event 2']);
    expect(dead[1]?.headers).toMatchObject({
      'x-dlq-origin-topic': spec.name,
      'x-dlq-origin-offset': '2',
      'x-dlq-attempts': '3',
    });
    expect(JSON.parse(dead[1]?.value ?? '{}')).toMatchObject({ id: 'id-2' });
  });

  it('applies the batches of partitions fetched together in one call, each partition in order', async () => {
    const spec = await freshTopic(4);
    await publishConcurrently(spec.name, 80, 16);
    const groupId = uniqueName('g');
    const calls = await handlerCalls(spec.name, 80, { groupId });
    expect(calls.some((events) => new Set(events.map((e) => e.partition)).size > 1)).toBe(true);
    for (let partition = 0; partition < 4; partition++) {
      const offsets = calls
        .flat()
        .filter((e) => e.partition === partition)
        .map((e) => e.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    const admin = raw.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [spec.name] });
    await admin.disconnect();
    expect(committed?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)).toBe(80);
  });

  it('gives every partition its own calls when a group may hold only one batch', async () => {
    const spec = await freshTopic(4);
    await publishConcurrently(spec.name, 80, 16);
    const calls = await handlerCalls(spec.name, 80, { groupEvents: 1 });
    expect(calls.every((events) => new Set(events.map((e) => e.partition)).size === 1)).toBe(true);
  });

  it('lets two instances of one group share the partitions, each user on one of them', async () => {
    const spec = await freshTopic(4);
    const groupId = uniqueName('g');
    const seen: { instance: number; key: string | null; n: number }[] = [];
    const instance = (id: number) =>
      startEventConsumer({
        kafka,
        groupId,
        topics: [spec.name],
        logger,
        handleBatch: async (events) => {
          for (const e of events)
            seen.push({ instance: id, key: e.key, n: (e.event.data as { n: number }).n });
        },
      });
    const [a, b] = await Promise.all([instance(1), instance(2)]);
    await Promise.all([a.joined, b.joined]);
    await publishConcurrently(spec.name, 200, 20);
    await eventually(async () => expect(seen).toHaveLength(200), 30_000);
    await Promise.all([a.stop(), b.stop()]);
    expect(new Set(seen.map((s) => s.instance))).toEqual(new Set([1, 2]));
    for (let k = 0; k < 20; k++) {
      const mine = seen.filter((s) => s.key === `user-${k}`);
      expect(new Set(mine.map((s) => s.instance)).size).toBe(1);
      expect(mine.map((s) => s.n)).toEqual([...mine.map((s) => s.n)].sort((x, y) => x - y));
    }
  });
});
