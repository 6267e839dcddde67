/** The collections the projections write and the admin API reads. */
export const ReadModels = {
  subscribers: 'subscribers',
  followerCounts: 'follower_counts',
  attributionUsers: 'attribution_users',
  campaignCounts: 'campaign_counts',
  attributionJourneys: 'attribution_journeys',
  campaignFunnels: 'campaign_funnels',
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

/**
 * What a campaign's funnel counts, per cohort day, in `campaign_funnels`: scans, follows (new and
 * returning) through the code, and of those followers, who engaged within 24 hours and who left
 * within 7 and within 30 days.
 */
export const funnelMeasures = [
  'scans',
  'newFollows',
  'returningFollows',
  'engagedWithin24h',
  'unfollowedWithin7d',
  'unfollowedWithin30d',
] as const;
export type FunnelMeasure = (typeof funnelMeasures)[number];
export type FunnelFigures = Record<FunnelMeasure, number>;

export const noFunnelFigures = (): FunnelFigures => ({
  scans: 0,
  newFollows: 0,
  returningFollows: 0,
  engagedWithin24h: 0,
  unfollowedWithin7d: 0,
  unfollowedWithin30d: 0,
});
