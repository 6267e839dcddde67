import {
  createTimeOf,
  chinaDayOf,
  noFunnelFigures,
  type FunnelMeasure,
  type FunnelFigures,
  type PushEvent,
  type WechatEvent,
  type WechatEventType,
} from '@wxp/contracts';
import type { DocumentProjection, Transition, VersionedDocument } from '@wxp/mongo';

/**
 * Where one user is in a campaign's funnel, filed under their pseudonym (the events' subject).
 * While they follow: the follow through a code that put them in a cohort, if the log has it. After
 * an unsubscribe: a tombstone that remembers only that they once followed, and when they left.
 */
export type JourneyDocument = JourneyFollower | JourneyLeaver;

/** The follow through a code that put a follower into a campaign's cohort of one day. */
export interface Cohort {
  scene: string;
  /** The China-time day of the follow: every figure of this follower is counted on it. */
  day: string;
  /** CreateTime of the follow, seconds since the epoch: the windows run from here. */
  followedAt: number;
  /** The user had followed and left before. */
  returning: boolean;
  /** A menu click or a message within the window has been counted already. */
  engaged: boolean;
}

export interface JourneyFollower extends VersionedDocument {
  appId: string;
  state: 'following';
  cohort?: Cohort;
}

export interface JourneyLeaver extends VersionedDocument {
  appId: string;
  state: 'unsubscribed';
  /** Seconds since the epoch. */
  unsubscribedAt: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
export const ENGAGEMENT_WINDOW_SECONDS = 24 * HOUR;
export const EARLY_UNFOLLOW_SECONDS = 7 * DAY;
export const LATE_UNFOLLOW_SECONDS = 30 * DAY;

/**
 * What a user does that shows they engaged: a tap on a menu button of any kind, or a message of
 * their own. Location reports, subscription pop-ups, receipts and replies happen without them.
 */
const engagingTypes: ReadonlySet<WechatEventType> = new Set<WechatEventType>([
  'wechat.menu.clicked',
  'wechat.menu.viewed',
  'wechat.menu.code_scanned',
  'wechat.menu.pictures_sent',
  'wechat.menu.location_selected',
  'wechat.menu.miniprogram_opened',
  'wechat.message.received',
  'wechat.image.received',
  'wechat.voice.received',
  'wechat.video.received',
  'wechat.shortvideo.received',
  'wechat.location.received',
  'wechat.link.received',
]);

/** Menu pushes written as wechat.event.received before they had types of their own; the log keeps them so. */
const untypedMenuEvents: ReadonlySet<string> = new Set([
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
  'view_miniprogram',
]);

export function isEngagement(event: PushEvent): boolean {
  if (event.type === 'wechat.event.received') return untypedMenuEvents.has(event.data.event ?? '');
  return engagingTypes.has(event.type);
}

const isPlatformEvent = (event: WechatEvent): event is Exclude<WechatEvent, PushEvent> =>
  event.type === 'wechat.user.erased' || event.type === 'wechat.reply.sent';

/** A retry of a push from before the user left: it must not bring them back. */
function isLate(current: JourneyDocument | null, event: PushEvent): boolean {
  return current?.state === 'unsubscribed' && event.data.createTime <= current.unsubscribedAt;
}

function pseudonymOf(event: WechatEvent): string {
  if (!event.subject) throw new Error(`${event.type} ${event.id} has no subject`);
  return event.subject;
}

const cohortOf = (document: JourneyDocument | null): Cohort | undefined =>
  document?.state === 'following' ? document.cohort : undefined;

function engagedNow(cohort: Cohort, event: PushEvent): boolean {
  if (cohort.engaged || !isEngagement(event)) return false;
  const elapsed = event.data.createTime - cohort.followedAt;
  return elapsed >= 0 && elapsed <= ENGAGEMENT_WINDOW_SECONDS;
}

export function journeyProjection(): DocumentProjection<WechatEvent, JourneyDocument> {
  return {
    documentId: pseudonymOf,
    eventId: (event) => event.id,
    eventTime: createTimeOf,
    evolve(current, event, position) {
      const unchanged = current ? { ...current, position } : null;
      if (isPlatformEvent(event) || isLate(current, event)) return unchanged;
      const follower = current?.state === 'following' ? current : null;
      const { appId, createTime } = event.data;
      switch (event.type) {
        case 'wechat.user.subscribed': {
          if (follower) return unchanged;
          const { scene } = event.data;
          return {
            _id: pseudonymOf(event),
            appId,
            state: 'following',
            ...(scene === undefined
              ? {}
              : {
                  cohort: {
                    scene,
                    day: chinaDayOf(createTime),
                    followedAt: createTime,
                    returning: current?.state === 'unsubscribed',
                    engaged: false,
                  },
                }),
            position,
          };
        }
        case 'wechat.qrcode.scanned':
          // Only followers send SCAN: one the log never saw follow follows now, in no cohort.
          return follower
            ? { ...follower, position }
            : { _id: pseudonymOf(event), appId, state: 'following', position };
        case 'wechat.user.unsubscribed':
          return {
            _id: pseudonymOf(event),
            appId,
            state: 'unsubscribed',
            unsubscribedAt: createTime,
            position,
          };
        default:
          if (follower?.cohort && engagedNow(follower.cohort, event))
            return { ...follower, cohort: { ...follower.cohort, engaged: true }, position };
          return unchanged;
      }
    },
  };
}

/** What one user transition adds to a campaign's cohort of one day (a follow is also a scan). */
export interface FunnelChange {
  appId: string;
  scene: string;
  partition: number;
  /** The cohort day: the day of the scan or follow the figures belong to. */
  day: string;
  measures: FunnelMeasure[];
}

/**
 * What a journey transition means for the funnels: a scan by a follower; a follow through a code,
 * which is a scan too (WeChat pushes a non-follower's scan only as the follow it ends in); the first
 * engagement within 24 hours of such a follow; its unfollow within 7 or 30 days. All but the scan
 * count on the day of the follow.
 */
export function funnelChangeOf(
  transition: Transition<WechatEvent, JourneyDocument>,
  partition: number,
): FunnelChange | undefined {
  const { event, before, after } = transition;
  if (isPlatformEvent(event) || isLate(before, event)) return undefined;
  const change = (scene: string, day: string, measures: FunnelMeasure[]): FunnelChange => ({
    appId: event.data.appId,
    scene,
    partition,
    day,
    measures,
  });
  const was = cohortOf(before);
  switch (event.type) {
    case 'wechat.qrcode.scanned':
      return change(event.data.scene, chinaDayOf(event.data.createTime), ['scans']);
    case 'wechat.user.subscribed': {
      const cohort = before?.state === 'following' ? undefined : cohortOf(after);
      if (!cohort) return undefined;
      return change(cohort.scene, cohort.day, [
        'scans',
        cohort.returning ? 'returningFollows' : 'newFollows',
      ]);
    }
    case 'wechat.user.unsubscribed': {
      if (!was) return undefined;
      const stayed = event.data.createTime - was.followedAt;
      if (stayed > LATE_UNFOLLOW_SECONDS) return undefined;
      return change(
        was.scene,
        was.day,
        stayed <= EARLY_UNFOLLOW_SECONDS
          ? ['unfollowedWithin7d', 'unfollowedWithin30d']
          : ['unfollowedWithin30d'],
      );
    }
    default: {
      const now = cohortOf(after);
      if (!was || was.engaged || !now?.engaged) return undefined;
      return change(was.scene, was.day, ['engagedWithin24h']);
    }
  }
}

/** Numbers only, per account, scene and partition, per cohort day. */
export interface CampaignFunnelDocument extends VersionedDocument {
  appId: string;
  scene: string;
  partition: number;
  days: Record<string, FunnelFigures>;
}

export const campaignFunnelProjection: DocumentProjection<FunnelChange, CampaignFunnelDocument> = {
  documentId: (c) => `${c.appId}\n${c.scene}\n${c.partition}`,
  evolve(current, c, position) {
    const funnel: CampaignFunnelDocument = current ?? {
      _id: `${c.appId}\n${c.scene}\n${c.partition}`,
      appId: c.appId,
      scene: c.scene,
      partition: c.partition,
      days: {},
      position,
    };
    const day = { ...(funnel.days[c.day] ?? noFunnelFigures()) };
    for (const measure of c.measures) day[measure] += 1;
    return { ...funnel, days: { ...funnel.days, [c.day]: day }, position };
  },
};
