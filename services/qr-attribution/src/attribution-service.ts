import { ReadModels, Topics, type AdminEvent, type WechatEvent } from '@wxp/contracts';
import { pointedBehaviour, type ConsumerBehaviour } from '@wxp/consumer-service';
import { projectIntoCollection, projectWithDerived } from '@wxp/mongo';
import { campaignProjection, type CampaignDocument } from './campaign-projection';
import {
  attributionUserProjection,
  campaignChangeOf,
  campaignCountsProjection,
  type AttributionUserDocument,
  type CampaignCountsDocument,
} from './attribution-projection';

export type AttributionCollections = {
  users: string;
  campaigns: string;
};

export const attributionCollections: AttributionCollections = {
  users: ReadModels.attributionUsers,
  campaigns: ReadModels.campaignCounts,
};

/** Per-user attribution, and the campaign figures derived from its transitions. */
export function attributionBehaviour(names = attributionCollections): ConsumerBehaviour {
  return {
    async prepare(db) {
      await db.collection(names.campaigns).createIndex({ appId: 1, scene: 1 });
    },
    handler(db) {
      const spec = {
        primary: {
          collection: db.collection<AttributionUserDocument>(names.users),
          projection: attributionUserProjection(),
        },
        derived: {
          collection: db.collection<CampaignCountsDocument>(names.campaigns),
          projection: campaignCountsProjection,
          changeOf: campaignChangeOf,
        },
      };
      return (events) =>
        projectWithDerived(
          spec,
          events.map((e) => ({ position: e.offset, partition: e.partition, event: e.event as WechatEvent })),
        );
    },
  };
}

/** The QR codes the admin API created, from wechat.admin.v1, for listing campaigns beside their figures. */
export function campaignsBehaviour(collection: string = ReadModels.campaigns): ConsumerBehaviour {
  return {
    topic: Topics.admin,
    groupSuffix: '-campaigns',
    async prepare(db) {
      await db.collection(collection).createIndex({ appId: 1, createdAt: -1 });
    },
    handler(db) {
      const campaigns = db.collection<CampaignDocument>(collection);
      return (events) =>
        projectIntoCollection(
          campaigns,
          campaignProjection,
          events.map((e) => ({ position: e.offset, event: e.event as AdminEvent })),
        ).then(() => undefined);
    },
  };
}

/** The consumers the service runs, as main.ts starts them (the attribution follows the pointer). */
export function qrAttributionConsumers(): ConsumerBehaviour[] {
  return [
    pointedBehaviour('qr-attribution', attributionCollections, (names) => attributionBehaviour(names)),
    campaignsBehaviour(),
  ];
}
