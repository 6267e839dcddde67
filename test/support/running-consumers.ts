import { startProjectionConsumer, type ConsumerBehaviour } from '@wxp/consumer-service';
import { Topics } from '@wxp/contracts';
import { topicOffsets, type Kafka, type RunningConsumer } from '@wxp/kafka';
import type { MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import pino from 'pino';
import { eventually, uniqueName } from './infrastructure';
import { testOpener } from './privacy';

/**
 * A service's consumers, in process, with a group of the test's own; resolves once all have joined.
 * Pass what the service's main.ts starts (`subscriberProjectionConsumers(…)` and the like), so that
 * the test runs what production runs, read-model pointer included.
 */
export async function startConsumers(
  service: string,
  kafka: Kafka,
  mongo: MongoConnection,
  behaviours: ConsumerBehaviour[],
  /** Where users' data keys are: the store the test's gateway or publisher wrote them to. */
  keysDb: Db = mongo.db,
): Promise<TestConsumer[]> {
  const group = uniqueName(service);
  const metrics = createMetricsRegistry(service);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const consumers: TestConsumer[] = [];
  for (const behaviour of behaviours) {
    const groupId = `${group}${behaviour.groupSuffix ?? ''}`;
    const consumer = await startProjectionConsumer({
      kafka,
      mongo,
      groupId,
      behaviour,
      opener: testOpener(keysDb, undefined, { openOnRead: true }),
      logger,
      metrics,
    });
    consumers.push(Object.assign(consumer, { groupId, topic: behaviour.topic ?? Topics.events }));
  }
  await Promise.all(consumers.map((c) => c.joined));
  return consumers;
}

/** A consumer started by a test, with what it reads and under which group. */
export type TestConsumer = RunningConsumer & { groupId: string; topic: string };

/**
 * Resolves once every consumer has committed everything its topic holds now: what was published
 * before the call has been applied.
 */
export async function caughtUp(
  kafka: Kafka,
  consumers: readonly TestConsumer[],
  timeoutMs = 30_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, Map<number, number>>();
    for (const topic of new Set(consumers.map((c) => c.topic)))
      ends.set(topic, (await topicOffsets(kafka, topic)).high);
    await eventually(
      async () => {
        for (const consumer of consumers) {
          const [offsets] = await admin.fetchOffsets({ groupId: consumer.groupId, topics: [consumer.topic] });
          const committed = new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          for (const [partition, end] of ends.get(consumer.topic)!)
            if (end > 0 && (committed.get(partition) ?? -1) < end)
              throw new Error(
                `${consumer.groupId} has not committed ${consumer.topic}[${partition}] up to ${end}`,
              );
        }
      },
      timeoutMs,
      200,
    );
  } finally {
    await admin.disconnect();
  }
}
