import { startProjectionConsumer, type ConsumerBehaviour } from '@wxp/consumer-service';
import type { Kafka, RunningConsumer } from '@wxp/kafka';
import type { MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import pino from 'pino';
import { uniqueName } from './infrastructure';
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
): Promise<RunningConsumer[]> {
  const group = uniqueName(service);
  const metrics = createMetricsRegistry(service);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const consumers: RunningConsumer[] = [];
  for (const behaviour of behaviours) {
    consumers.push(
      await startProjectionConsumer({
        kafka,
        mongo,
        groupId: `${group}${behaviour.groupSuffix ?? ''}`,
        behaviour,
        opener: testOpener(keysDb),
        logger,
        metrics,
      }),
    );
  }
  await Promise.all(consumers.map((c) => c.joined));
  return consumers;
}
