import {
  chinaDayOf,
  createTimeOf,
  eventCatalogue,
  notUserActionPushes,
  notUserActionTypes,
  type WechatEvent,
} from '@wxp/contracts';
import type { DocumentProjection, Transition, VersionedDocument } from '@wxp/mongo';

/**
 * One user of one account, filed under their pseudonym (a keyed hash of appId and openId). While
 * the user follows, it holds what the read model shows; after an unsubscribe it is a tombstone
 * holding only the pseudonym and the time, so that no personal data stays and no late event can
 * bring the user back. A follower who asked to be erased stays counted, without their openId.
 */
export type SubscriberDocument = FollowerDocument | TombstoneDocument;

export interface FollowerDocument extends VersionedDocument {
  appId: string;
  state: 'following';
  /** Absent once the user is erased (or their events read as erased). */
  openId?: string;
  firstSubscribedAt: Date;
  lastSubscribedAt: Date;
  /** The QR scene the user followed through, if any. */
  scene?: string;
  sceneId?: number;
  ticket?: string;
  lastActivityAt: Date;
  lastEventId: string;
}

export interface TombstoneDocument extends VersionedDocument {
  appId: string;
  state: 'unsubscribed';
  unsubscribedAt: Date;
}

const at = (event: WechatEvent) => new Date(event.time);

/**
 * subscribe starts (or, after a tombstone, restarts) a follower, unsubscribe leaves a tombstone, and
 * any other event a follower caused moves their last activity. Anything that happened at or before the
 * unsubscribe a tombstone records is a late arrival and changes nothing.
 */
/** The pseudonym events of the events topic carry as their subject. */
export function pseudonymOfEvent(event: WechatEvent): string {
  if (!event.subject) throw new Error(`${event.type} ${event.id} has no subject`);
  return event.subject;
}

/** Whether the event is something the user did: a push of a known type, not a report about them. */
function isUserAction(event: WechatEvent): boolean {
  if (!eventCatalogue.has(event.type) || notUserActionTypes.has(event.type)) return false;
  if (event.type !== 'wechat.event.received') return true;
  return !notUserActionPushes.has(event.data.event ?? '');
}

export function subscriberProjection(): DocumentProjection<WechatEvent, SubscriberDocument> {
  return {
    documentId: pseudonymOfEvent,
    eventId: (event) => event.id,
    eventTime: createTimeOf,

    evolve(current, event, position) {
      if (event.type === 'wechat.user.erased') {
        if (current?.state !== 'following') return current ? { ...current, position } : null;
        const { openId: _erased, ...rest } = current;
        return { ...rest, position };
      }
      const time = at(event);
      if (current?.state === 'unsubscribed' && time <= current.unsubscribedAt)
        return { ...current, position };
      const follower = current?.state === 'following' ? current : null;
      switch (event.type) {
        case 'wechat.user.subscribed': {
          const { appId, openId, scene, sceneId, ticket } = event.data;
          return {
            _id: pseudonymOfEvent(event),
            appId,
            state: 'following',
            ...(openId === '' ? {} : { openId }),
            firstSubscribedAt: follower?.firstSubscribedAt ?? time,
            lastSubscribedAt: time,
            ...(scene === undefined ? {} : { scene }),
            ...(sceneId === undefined ? {} : { sceneId }),
            ...(ticket === undefined ? {} : { ticket }),
            lastActivityAt: time,
            lastEventId: event.id,
            position,
          };
        }
        case 'wechat.user.unsubscribed':
          return {
            _id: pseudonymOfEvent(event),
            appId: event.data.appId,
            state: 'unsubscribed',
            unsubscribedAt: time,
            position,
          };
        default:
          // Receipts and agents' session changes are about the user, not by them; a type of a newer
          // release is not known to be the user's doing either.
          if (!follower || !isUserAction(event)) return current ? { ...current, position } : null;
          return {
            ...follower,
            lastActivityAt: time > follower.lastActivityAt ? time : follower.lastActivityAt,
            lastEventId: event.id,
            position,
          };
      }
    },
  };
}

/** Numbers only: follows and unfollows per account, in total and per day, one document per partition. */
export interface FollowerCountsDocument extends VersionedDocument {
  appId: string;
  partition: number;
  follows: number;
  unfollows: number;
  days: Record<string, { follows: number; unfollows: number }>;
}

/** A follow or unfollow that the subscriber projection saw happen, at its place in its partition. */
export interface FollowerChange {
  appId: string;
  partition: number;
  change: 'follow' | 'unfollow';
  day: string;
}

/** What a user transition means for the counts: a new follow, an unfollow, or nothing. */
export function followerChangeOf(
  transition: Transition<WechatEvent, SubscriberDocument>,
  partition: number,
): FollowerChange | undefined {
  const wasFollowing = transition.before?.state === 'following';
  const isFollowing = transition.after?.state === 'following';
  if (wasFollowing === isFollowing) return undefined;
  return {
    appId: transition.event.data.appId,
    partition,
    change: isFollowing ? 'follow' : 'unfollow',
    day: chinaDayOf(Math.floor(at(transition.event).getTime() / 1000)),
  };
}

export const followerCountsProjection: DocumentProjection<FollowerChange, FollowerCountsDocument> = {
  documentId: (change) => `${change.appId}:${change.partition}`,
  evolve(current, change, position) {
    const counts = current ?? {
      _id: `${change.appId}:${change.partition}`,
      appId: change.appId,
      partition: change.partition,
      follows: 0,
      unfollows: 0,
      days: {},
      position,
    };
    const day = counts.days[change.day] ?? { follows: 0, unfollows: 0 };
    const field = change.change === 'follow' ? 'follows' : 'unfollows';
    return {
      ...counts,
      [field]: counts[field] + 1,
      days: { ...counts.days, [change.day]: { ...day, [field]: day[field] + 1 } },
      position,
    };
  },
};
