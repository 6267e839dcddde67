/** The collections the projections write and the admin API reads. */
export const ReadModels = {
  subscribers: 'subscribers',
  followerCounts: 'follower_counts',
  attributionUsers: 'attribution_users',
  campaignCounts: 'campaign_counts',
  campaigns: 'campaigns',
  replyRules: 'reply_rules',
  profiles: 'profiles',
} as const;

/** A campaign's QR code in the `campaigns` read model, as the QR attribution service projects it. */
export interface CampaignRecord {
  appId: string;
  /** As WeChat pushes it back in EventKey: digits for a numeric scene. */
  scene: string;
  sceneId?: number;
  kind: 'temporary' | 'permanent';
  name?: string;
  ticket: string;
  url: string;
  expireSeconds?: number;
  expiresAt?: Date;
  /** When the scene's first code was made; a later code for the same scene replaces the ticket. */
  firstCreatedAt: Date;
  createdAt: Date;
}
