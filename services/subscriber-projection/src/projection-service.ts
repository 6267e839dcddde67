import { Topics, type WechatEvent } from '@wxp/contracts';
import { startEventConsumer, type ConsumedEvent, type Kafka, type RunningConsumer } from '@wxp/kafka';
import {
  foldEvents,
  isDefined,
  loadDocuments,
  writeDocuments,
  type MongoConnection,
  type PositionedEvent,
} from '@wxp/mongo';
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

/**
 * Applies one partition's batch to both read models. The counts are derived from the user
 * transitions and written first: if the process dies between the two writes, the redelivered batch
 * finds the users unchanged, derives the same transitions, and the counts skip what they have.
 */
export function subscriberBatchHandler(
  db: Db,
  privacyKey: string,
  names: SubscriberCollections = defaultCollections,
) {
  const users = db.collection<SubscriberDocument>(names.subscribers);
  const counts = db.collection<FollowerCountsDocument>(names.counts);
  const projection = subscriberProjection(privacyKey);
  return async (events: ConsumedEvent[]): Promise<void> => {
    const positioned = events.map((e) => ({
      position: e.offset,
      event: e.event as WechatEvent,
      partition: e.partition,
    }));
    const loadedUsers = await loadDocuments(users, [
      ...new Set(positioned.map((e) => projection.documentId(e.event)).filter(isDefined)),
    ]);
    const folded = foldEvents(projection, loadedUsers, positioned);
    const partitionOf = new Map(positioned.map((e) => [e.position, e.partition]));
    const changes = folded.transitions.flatMap((t) => {
      const change = followerChangeOf(t, partitionOf.get(t.position) ?? 0);
      return change ? [{ position: t.position, event: change } satisfies PositionedEvent<typeof change>] : [];
    });
    if (changes.length > 0) {
      const loadedCounts = await loadDocuments(counts, [
        ...new Set(changes.map((c) => followerCountsProjection.documentId(c.event)).filter(isDefined)),
      ]);
      await writeDocuments(
        counts,
        loadedCounts,
        foldEvents(followerCountsProjection, loadedCounts, changes).documents,
      );
    }
    await writeDocuments(users, loadedUsers, folded.documents);
  };
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
