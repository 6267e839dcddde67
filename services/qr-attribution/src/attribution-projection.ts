import { chinaDayOf, createTimeOf, type PushEvent, type WechatEvent } from '@wxp/contracts';
import type { DocumentProjection, Transition, VersionedDocument } from '@wxp/mongo';

/**
 * What the QR codes did for one user, filed under their pseudonym (the events' subject). While the
 * user follows: the code that brought them in and the first and last code they touched. After an
 * unsubscribe: a tombstone that remembers only that they once followed, and when they left.
 */
export type AttributionUserDocument = AttributedFollower | FormerFollower;

export interface AttributedFollower extends VersionedDocument {
  appId: string;
  state: 'following';
  /** The scene of the code the user followed through, if they did. */
  broughtBy?: string;
  firstTouchScene?: string;
  lastTouchScene?: string;
}

export interface FormerFollower extends VersionedDocument {
  appId: string;
  state: 'unsubscribed';
  unsubscribedAt: Date;
}

type PushOf = PushEvent;

/** The platform's own events: an erasure or a reply holds nothing about codes. */
const isPlatformEvent = (event: WechatEvent): event is Exclude<WechatEvent, PushEvent> =>
  event.type === 'wechat.user.erased' || event.type === 'wechat.reply.sent';

const time = (event: PushOf) => new Date(event.data.createTime * 1000);

function isLate(current: AttributionUserDocument | null, event: PushOf): boolean {
  return current?.state === 'unsubscribed' && time(event) <= current.unsubscribedAt;
}

/** The pseudonym events of the events topic carry as their subject. */
function pseudonymOf(event: WechatEvent): string {
  if (!event.subject) throw new Error(`${event.type} ${event.id} has no subject`);
  return event.subject;
}

export function attributionUserProjection(): DocumentProjection<WechatEvent, AttributionUserDocument> {
  return {
    documentId: pseudonymOf,
    eventId: (event) => event.id,
    eventTime: createTimeOf,
    evolve(current, event, position) {
      // Nothing personal is kept here, so an erasure only moves the position on.
      if (isPlatformEvent(event)) return current ? { ...current, position } : null;
      if (isLate(current, event)) return current ? { ...current, position } : null;
      const _id = pseudonymOf(event);
      const follower = current?.state === 'following' ? current : null;
      switch (event.type) {
        case 'wechat.user.subscribed': {
          const scene = event.data.scene;
          if (follower) return { ...follower, position };
          return {
            _id,
            appId: event.data.appId,
            state: 'following',
            ...(scene === undefined
              ? {}
              : { broughtBy: scene, firstTouchScene: scene, lastTouchScene: scene }),
            position,
          };
        }
        case 'wechat.qrcode.scanned': {
          const base: AttributedFollower = follower ?? {
            _id,
            appId: event.data.appId,
            state: 'following',
            position,
          };
          return {
            ...base,
            firstTouchScene: base.firstTouchScene ?? event.data.scene,
            lastTouchScene: event.data.scene,
            position,
          };
        }
        case 'wechat.user.unsubscribed':
          return {
            _id,
            appId: event.data.appId,
            state: 'unsubscribed',
            unsubscribedAt: time(event),
            position,
          };
        default:
          return current ? { ...current, position } : null;
      }
    },
  };
}

export type CampaignMeasure = 'scans' | 'subscribes' | 'returning' | 'unsubscribes';
export const campaignMeasures: readonly CampaignMeasure[] = [
  'scans',
  'subscribes',
  'returning',
  'unsubscribes',
];

/** One thing a code achieved, at its place in its partition. */
export interface CampaignChange {
  appId: string;
  scene: string;
  partition: number;
  measure: CampaignMeasure;
  day: string;
}

/**
 * What a user transition means for the campaigns: a scan, a new follower through a code, a former
 * follower returning through a code, or the loss of a follower a code brought in.
 */
export function campaignChangeOf(
  transition: Transition<WechatEvent, AttributionUserDocument>,
  partition: number,
): CampaignChange | undefined {
  const { event, before } = transition;
  if (isPlatformEvent(event) || isLate(before, event)) return undefined;
  const change = (scene: string | undefined, measure: CampaignMeasure): CampaignChange | undefined =>
    scene === undefined
      ? undefined
      : { appId: event.data.appId, scene, partition, measure, day: chinaDayOf(event.data.createTime) };
  switch (event.type) {
    case 'wechat.qrcode.scanned':
      return change(event.data.scene, 'scans');
    case 'wechat.user.subscribed':
      if (before?.state === 'following') return undefined;
      return change(event.data.scene, before?.state === 'unsubscribed' ? 'returning' : 'subscribes');
    case 'wechat.user.unsubscribed':
      return before?.state === 'following' ? change(before.broughtBy, 'unsubscribes') : undefined;
    default:
      return undefined;
  }
}

export type CampaignFigures = Record<CampaignMeasure, number>;

/** Numbers only, per account, scene and partition, in total and per China-time day. */
export interface CampaignCountsDocument extends VersionedDocument, CampaignFigures {
  appId: string;
  scene: string;
  partition: number;
  days: Record<string, CampaignFigures>;
}

const zero = (): CampaignFigures => ({ scans: 0, subscribes: 0, returning: 0, unsubscribes: 0 });

export const campaignCountsProjection: DocumentProjection<CampaignChange, CampaignCountsDocument> = {
  documentId: (c) => `${c.appId}\n${c.scene}\n${c.partition}`,
  evolve(current, c, position) {
    const counts: CampaignCountsDocument = current ?? {
      _id: `${c.appId}\n${c.scene}\n${c.partition}`,
      appId: c.appId,
      scene: c.scene,
      partition: c.partition,
      ...zero(),
      days: {},
      position,
    };
    const day = counts.days[c.day] ?? zero();
    return {
      ...counts,
      [c.measure]: counts[c.measure] + 1,
      days: { ...counts.days, [c.day]: { ...day, [c.measure]: day[c.measure] + 1 } },
      position,
    };
  },
};
