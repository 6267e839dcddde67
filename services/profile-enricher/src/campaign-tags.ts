import { Topics, type AdminEvent } from '@wxp/contracts';
import type { ConsumerBehaviour } from '@wxp/consumer-service';
import { projectIntoCollection, type DocumentProjection, type VersionedDocument } from '@wxp/mongo';

export const CAMPAIGN_TAGS_COLLECTION = 'campaign_tags';

/** The tag a campaign's code gives its followers, as the last code made for the scene says. */
export interface CampaignTagDocument extends VersionedDocument {
  appId: string;
  scene: string;
  /** Absent when the scene's latest code names no tag. */
  tag?: string;
}

export const campaignTagId = (appId: string, scene: string) => `${appId}\n${scene}`;

export const campaignTagProjection: DocumentProjection<AdminEvent, CampaignTagDocument> = {
  documentId: (event) =>
    event.type === 'wechat.admin.campaign.created'
      ? campaignTagId(event.data.appId, event.data.scene)
      : undefined,
  evolve(current, event, position) {
    if (event.type !== 'wechat.admin.campaign.created') return current;
    const { appId, scene, tag } = event.data;
    return {
      _id: campaignTagId(appId, scene),
      appId,
      scene,
      ...(tag === undefined ? {} : { tag }),
      position,
    };
  },
};

/** Keeps each campaign's tag from wechat.admin.v1, for the enricher to look up by scene. */
export function campaignTagsBehaviour(collection = CAMPAIGN_TAGS_COLLECTION): ConsumerBehaviour {
  return {
    topic: Topics.admin,
    groupSuffix: '-campaign-tags',
    async prepare() {},
    handler(db) {
      const tags = db.collection<CampaignTagDocument>(collection);
      return async (events) => {
        await projectIntoCollection(
          tags,
          campaignTagProjection,
          events.map((e) => ({ position: e.offset, event: e.event as AdminEvent })),
        );
      };
    },
  };
}
