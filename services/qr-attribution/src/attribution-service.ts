import { Topics, type WechatEvent } from '@wxp/contracts';
import { startEventConsumer, type ConsumedEvent, type Kafka, type RunningConsumer } from '@wxp/kafka';
import { projectWithDerived, type MongoConnection } from '@wxp/mongo';
import type { Logger, Registry } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import {
  attributionUserProjection,
  campaignChangeOf,
  campaignCountsProjection,
  type AttributionUserDocument,
  type CampaignCountsDocument,
} from './attribution-projection';

export interface AttributionCollections {
  users: string;
  campaigns: string;
}

export const defaultCollections: AttributionCollections = {
  users: 'attribution_users',
  campaigns: 'campaign_counts',
};

/** One partition's batch into the per-user attribution and, derived from it, the campaign figures. */
export function attributionBatchHandler(
  db: Db,
  privacyKey: string,
  names: AttributionCollections = defaultCollections,
) {
  const spec = {
    primary: {
      collection: db.collection<AttributionUserDocument>(names.users),
      projection: attributionUserProjection(privacyKey),
    },
    derived: {
      collection: db.collection<CampaignCountsDocument>(names.campaigns),
      projection: campaignCountsProjection,
      changeOf: campaignChangeOf,
    },
  };
  return (events: ConsumedEvent[]): Promise<void> =>
    projectWithDerived(
      spec,
      events.map((e) => ({ position: e.offset, partition: e.partition, event: e.event as WechatEvent })),
    );
}

export interface AttributionServiceOptions {
  kafka: Kafka;
  mongo: MongoConnection;
  groupId: string;
  privacyKey: string;
  collections?: AttributionCollections;
  logger: Logger;
  metrics: Registry;
}

export async function startQrAttribution(options: AttributionServiceOptions): Promise<RunningConsumer> {
  const names = options.collections ?? defaultCollections;
  await options.mongo.db.collection(names.campaigns).createIndex({ appId: 1, scene: 1 });
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [Topics.events],
    logger: options.logger,
    metrics: options.metrics,
    fromBeginning: true,
    handleBatch: attributionBatchHandler(options.mongo.db, options.privacyKey, names),
  });
}
