import { Topics, type WechatEvent } from '@wxp/contracts';
import { startEventConsumer, type Kafka, type RunningConsumer } from '@wxp/kafka';
import { projectIntoCollection, type MongoConnection } from '@wxp/mongo';
import type { Logger, Registry } from '@wxp/service-runtime';
import { subscriberProjection, type SubscriberDocument } from './subscriber-projection';

export interface ProjectionServiceOptions {
  kafka: Kafka;
  mongo: MongoConnection;
  groupId: string;
  collection: string;
  logger: Logger;
  metrics: Registry;
}

/** The I/O shell around the pure projection: read a batch, apply it, commit. */
export async function startSubscriberProjection(options: ProjectionServiceOptions): Promise<RunningConsumer> {
  const collection = options.mongo.db.collection<SubscriberDocument>(options.collection);
  await collection.createIndex({ appId: 1, scene: 1 });
  await collection.createIndex({ appId: 1, subscribedAt: -1 });
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [Topics.events],
    logger: options.logger,
    metrics: options.metrics,
    fromBeginning: true,
    async handleBatch(events) {
      const stats = await projectIntoCollection(
        collection,
        subscriberProjection,
        events.map((e) => ({ position: e.offset, event: e.event as WechatEvent })),
      );
      if (stats.conflicts > 0) options.logger.warn(stats, 'documents changed concurrently');
    },
  });
}
