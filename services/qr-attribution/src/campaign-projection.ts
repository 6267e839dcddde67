import type { AdminEvent, CampaignRecord } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';

/** A QR code a campaign prints, as the admin API created it last for its scene. */
export interface CampaignDocument extends VersionedDocument, CampaignRecord {
  /** The WeChat user tag its followers are given, when the campaign names one. */
  tag?: string;
}

export const campaignDocumentId = (appId: string, scene: string) => `${appId}\n${scene}`;

export const campaignProjection: DocumentProjection<AdminEvent, CampaignDocument> = {
  documentId: (event) =>
    event.type === 'wechat.admin.campaign.created'
      ? campaignDocumentId(event.data.appId, event.data.scene)
      : undefined,
  evolve(current, event, position) {
    if (event.type !== 'wechat.admin.campaign.created') return current;
    const { appId, scene, sceneId, kind, name, tag, ticket, url, expireSeconds, expiresAt, createdAt } =
      event.data;
    const created = new Date(createdAt);
    return {
      _id: campaignDocumentId(appId, scene),
      appId,
      scene,
      ...(sceneId === undefined ? {} : { sceneId }),
      kind,
      ...(name === undefined ? {} : { name }),
      ...(tag === undefined ? {} : { tag }),
      ticket,
      url,
      ...(expireSeconds === undefined ? {} : { expireSeconds }),
      ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt) }),
      firstCreatedAt: current && current.firstCreatedAt < created ? current.firstCreatedAt : created,
      createdAt: created,
      position,
    };
  },
};
