import type { ICustomPartitioner, Kafka, PartitionMetadata, ProducerBatch, ProducerConfig } from 'kafkajs';
import { EventPublisher, EventsNotAcknowledgedError, type OutgoingEvent } from '../src/event-publisher';

/** A producer session as the publisher sees it: what it sent, and whether it was let go. */
interface FakeProducer {
  id: number;
  sent: string[][];
  disconnected: boolean;
}

/**
 * A Kafka client whose producers fail the sends and connections the test asks them to, so the
 * publisher's handling of a failed send can be seen without a broker.
 */
function fakeKafka(plan: {
  failSends?: number[];
  failConnects?: number;
  firstSendWaitsFor?: Promise<void>;
  /** Sends whose answer leaves out the partitions of these keys, as kafkajs does when a leader moves mid-send. */
  answerWithout?: { sends: number[]; keys: string[] };
}) {
  const producers: FakeProducer[] = [];
  let sends = 0;
  let connectFailures = plan.failConnects ?? 0;
  const kafka = {
    producer: (config: ProducerConfig) => {
      const partitioner = (config.createPartitioner as ICustomPartitioner)();
      const partitionMetadata = Array.from({ length: 4 }, (_, partitionId): PartitionMetadata => ({
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
        offlineReplicas: [],
        partitionErrorCode: 0,
      }));
      const made: FakeProducer = { id: producers.length, sent: [], disconnected: false };
      producers.push(made);
      return {
        events: { DISCONNECT: 'producer.disconnect' },
        on: () => () => undefined,
        connect: async () => {
          // The first producer always connects: the publisher is made while the broker is up.
          if (made.id > 0 && connectFailures > 0) {
            connectFailures--;
            throw new Error('broker unreachable');
          }
        },
        disconnect: async () => {
          made.disconnected = true;
        },
        sendBatch: async (batch: ProducerBatch) => {
          const n = sends++;
          if (n === 0 && plan.firstSendWaitsFor) await plan.firstSendWaitsFor;
          if (plan.failSends?.includes(n)) throw new Error(`send ${n} lost its connection`);
          made.sent.push((batch.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.key))));
          const left = new Set<string>();
          const answered = new Set<string>();
          for (const { topic, messages } of batch.topicMessages ?? [])
            for (const message of messages) {
              const partition = partitioner({ topic, partitionMetadata, message });
              const where = `${topic}:${partition}`;
              if (
                plan.answerWithout?.sends.includes(n) &&
                plan.answerWithout.keys.includes(String(message.key))
              )
                left.add(where);
              answered.add(where);
            }
          return [...answered]
            .filter((where) => !left.has(where))
            .map((where) => {
              const [topicName, partition] = where.split(':');
              return { topicName: topicName!, partition: Number(partition), errorCode: 0 };
            });
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, producers };
}

const event = (id: string): OutgoingEvent => ({
  topic: 'wechat.events.v1',
  key: id,
  event: {
    specversion: '1.0',
    id,
    source: '/test',
    type: 'test.happened',
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'urn:test',
    data: {},
  },
});

describe('the event publisher after a failed send', () => {
  it('sends nothing more with the producer whose send failed, and lets it go', async () => {
    const { kafka, producers } = fakeKafka({ failSends: [1] });
    const publisher = await EventPublisher.connect(kafka);
    await publisher.publish(event('a'));
    await expect(publisher.publish(event('b'))).rejects.toThrow(/lost its connection/);
    await publisher.publish(event('c'));
    await publisher.publish(event('d'));
    expect(producers.map((p) => p.sent)).toEqual([[['a']], [['c'], ['d']]]);
    expect(producers[0]?.disconnected).toBe(true);
    expect(publisher.isConnected).toBe(true);
    await publisher.disconnect();
  });

  it('sends again, with a new producer, events whose partition a send that resolved did not cover', async () => {
    const { kafka, producers } = fakeKafka({ answerWithout: { sends: [0], keys: ['b'] } });
    const publisher = await EventPublisher.connect(kafka);
    await publisher.publish(event('b'));
    expect(producers.map((p) => p.sent)).toEqual([[['b']], [['b']]]);
    expect(producers[0]?.disconnected).toBe(true);
    await publisher.disconnect();
  });

  it('fails events that sends keep leaving out, instead of acknowledging them', async () => {
    const { kafka, producers } = fakeKafka({ answerWithout: { sends: [0, 1, 2, 3], keys: ['b'] } });
    const publisher = await EventPublisher.connect(kafka);
    await expect(publisher.publish(event('b'))).rejects.toThrow(EventsNotAcknowledgedError);
    expect(producers.flatMap((p) => p.sent)).toEqual([['b'], ['b'], ['b']]);
    await publisher.publish(event('c'));
    await publisher.disconnect();
  });

  it('keeps events queued while no new producer can connect, and sends them once one does', async () => {
    const { kafka, producers } = fakeKafka({ failSends: [0], failConnects: 2 });
    const publisher = await EventPublisher.connect(kafka);
    await expect(publisher.publish(event('a'))).rejects.toThrow();
    await publisher.publish(event('b'));
    expect(producers).toHaveLength(4);
    expect(producers[3]?.sent).toEqual([['b']]);
    expect(producers.slice(0, 3).every((p) => p.sent.length === 0)).toBe(true);
    await publisher.disconnect();
  });
});

describe('events published together', () => {
  it('leave in one request even when the publisher was idle', async () => {
    const together = fakeKafka({});
    const publisher = await EventPublisher.connect(together.kafka);
    await publisher.publishTogether([event('push'), event('reply')]);
    expect(together.producers[0]?.sent).toEqual([['push', 'reply']]);
    await publisher.disconnect();

    // One at a time, an idle publisher sends the first event on its own: two round trips.
    const apart = fakeKafka({});
    const separate = await EventPublisher.connect(apart.kafka);
    await Promise.all([separate.publish(event('push')), separate.publish(event('reply'))]);
    expect(apart.producers[0]?.sent).toEqual([['push'], ['reply']]);
    await separate.disconnect();
  });

  it('are never split across requests by the batch size, and count as queued events', async () => {
    let release!: () => void;
    const { kafka, producers } = fakeKafka({ firstSendWaitsFor: new Promise((r) => (release = r)) });
    const publisher = await EventPublisher.connect(kafka, { maxBatchSize: 2 });
    const first = publisher.publish(event('first'));
    const waiting = [
      publisher.publish(event('c')),
      publisher.publishTogether([event('d'), event('e')]),
      publisher.publishTogether([event('f'), event('g'), event('h')]),
    ];
    expect(publisher.queuedEvents).toBe(6);
    release();
    await Promise.all([first, ...waiting]);
    expect(producers[0]?.sent).toEqual([['first'], ['c'], ['d', 'e'], ['f', 'g', 'h']]);
    expect(publisher.queuedEvents).toBe(0);
    await publisher.disconnect();
  });

  it('are refused together when the queue is full', async () => {
    let release!: () => void;
    const { kafka } = fakeKafka({ firstSendWaitsFor: new Promise((r) => (release = r)) });
    const publisher = await EventPublisher.connect(kafka, { maxQueuedEvents: 2 });
    const first = publisher.publish(event('first'));
    const queued = publisher.publishTogether([event('a'), event('b')]);
    await expect(publisher.publishTogether([event('c'), event('d')])).rejects.toThrow(/already wait/);
    release();
    await Promise.all([first, queued]);
    await publisher.disconnect();
  });
});

describe('a publisher under load', () => {
  it('lingers before a request that follows a shared one, so that callers arriving meanwhile join it', async () => {
    let release!: () => void;
    const { kafka, producers } = fakeKafka({ firstSendWaitsFor: new Promise((r) => (release = r)) });
    const publisher = await EventPublisher.connect(kafka, { lingerMs: 20 });
    const first = publisher.publish(event('first'));
    const shared = [publisher.publish(event('a')), publisher.publish(event('b'))];
    release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The request with a and b was shared, so the one c sets out is held back: d, published while
    // it waits, goes with c. Without the linger c would leave alone.
    const later = [publisher.publish(event('c')), publisher.publish(event('d'))];
    await Promise.all([first, ...shared, ...later]);
    expect(producers[0]?.sent).toEqual([['first'], ['a', 'b'], ['c', 'd']]);
    await publisher.disconnect();
  });

  it('never makes a quiet publisher wait', async () => {
    const { kafka, producers } = fakeKafka({});
    const publisher = await EventPublisher.connect(kafka, { lingerMs: 10_000 });
    const started = Date.now();
    for (const id of ['a', 'b', 'c']) await publisher.publish(event(id));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(producers[0]?.sent).toEqual([['a'], ['b'], ['c']]);
    await publisher.disconnect();
  });
});
