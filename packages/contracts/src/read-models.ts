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
