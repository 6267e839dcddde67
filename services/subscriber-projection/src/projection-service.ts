import { Topics, type WechatEvent } from '@wxp/contracts';
import { startEventConsumer, type ConsumedEvent, type Kafka, type RunningConsumer } from '@wxp/kafka';
import { projectWithDerived, type MongoConnection } from '@wxp/mongo';
import type { Logger, Registry } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import {
  followerChangeOf,
  followerCountsProjection,
  subscriberProjection,
  type FollowerCountsDocument,
  type SubscriberDocument,
} from './subscriber-projection';

export interface SubscriberCollections {
  subscribers: string;
  counts: string;
}

export const defaultCollections: SubscriberCollections = {
  subscribers: 'subscribers',
  counts: 'follower_counts',
};

export async function ensureSubscriberIndexes(db: Db, names: SubscriberCollections): Promise<void> {
  await db.collection(names.subscribers).createIndex({ appId: 1, state: 1, scene: 1 });
  await db.collection(names.counts).createIndex({ appId: 1 });
}

/** One partition's batch into the users and, derived from their transitions, the counts. */
export function subscriberBatchHandler(
  db: Db,
  privacyKey: string,
  names: SubscriberCollections = defaultCollections,
) {
  const spec = {
    primary: {
      collection: db.collection<SubscriberDocument>(names.subscribers),
      projection: subscriberProjection(privacyKey),
    },
    derived: {
      collection: db.collection<FollowerCountsDocument>(names.counts),
      projection: followerCountsProjection,
      changeOf: followerChangeOf,
    },
  };
  return (events: ConsumedEvent[]): Promise<void> =>
    projectWithDerived(
      spec,
      events.map((e) => ({ position: e.offset, partition: e.partition, event: e.event as WechatEvent })),
    );
}

export interface ProjectionServiceOptions {
  kafka: Kafka;
  mongo: MongoConnection;
  groupId: string;
  privacyKey: string;
  collections?: SubscriberCollections;
  logger: Logger;
  metrics: Registry;
}

/** The I/O shell around the pure projections: read a batch, apply it, commit. */
export async function startSubscriberProjection(options: ProjectionServiceOptions): Promise<RunningConsumer> {
  const names = options.collections ?? defaultCollections;
  await ensureSubscriberIndexes(options.mongo.db, names);
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [Topics.events],
    logger: options.logger,
    metrics: options.metrics,
    fromBeginning: true,
    handleBatch: subscriberBatchHandler(options.mongo.db, options.privacyKey, names),
  });
}
