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
import {
  campaignFunnelProjection,
  funnelChangeOf,
  journeyProjection,
  type CampaignFunnelDocument,
  type JourneyDocument,
} from './funnel-projection';

/**
 * The read model's roles: per-user attribution and the campaign counts derived from it, and the
 * per-user journeys and the campaign funnels derived from those. One read model, so that one replay
 * rebuilds and swaps all four together.
 */
export type AttributionCollections = {
  users: string;
  campaigns: string;
  journeys: string;
  funnels: string;
};

export const attributionCollections: AttributionCollections = {
  users: ReadModels.attributionUsers,
  campaigns: ReadModels.campaignCounts,
  journeys: ReadModels.attributionJourneys,
  funnels: ReadModels.campaignFunnels,
};

/** Per-user attribution and journeys, and the campaign figures and funnels derived from their transitions. */
export function attributionBehaviour(names = attributionCollections): ConsumerBehaviour {
  return {
    // Users are their pseudonyms here, and codes, types and times are clear fields.
    readsPersonalData: false,
    async prepare(db) {
      await db.collection(names.campaigns).createIndex({ appId: 1, scene: 1 });
      await db.collection(names.funnels).createIndex({ appId: 1, scene: 1 });
    },
    handler(db) {
      const attribution = {
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
      const funnel = {
        primary: {
          collection: db.collection<JourneyDocument>(names.journeys),
          projection: journeyProjection(),
        },
        derived: {
          collection: db.collection<CampaignFunnelDocument>(names.funnels),
          projection: campaignFunnelProjection,
          changeOf: funnelChangeOf,
        },
      };
      return async (events) => {
        const positioned = events.map((e) => ({
          position: e.offset,
          partition: e.partition,
          event: e.event as WechatEvent,
        }));
        // Separate collections, each guarded by its own positions: either may finish first. Both
        // are waited for before a failure is thrown, so that the batch's retry never overlaps one.
        const results = await Promise.allSettled([
          projectWithDerived(attribution, positioned),
          projectWithDerived(funnel, positioned),
        ]);
        for (const result of results) if (result.status === 'rejected') throw result.reason;
      };
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
