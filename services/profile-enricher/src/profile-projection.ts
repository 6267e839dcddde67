import type { ProfileEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';

/**
 * What user/info said about a follower, filed under their pseudonym (the events' subject); once they
 * leave, a tombstone with nothing personal: no openId, unionId, remark or tags.
 */
export type ProfileDocument = KnownProfile | FailedProfile | ErasedProfile;

interface ProfileBase extends VersionedDocument {
  appId: string;
}

export interface KnownProfile extends ProfileBase {
  state: 'known';
  openId: string;
  unionId?: string;
  language?: string;
  subscribeScene?: string;
  qrScene?: number;
  qrSceneStr?: string;
  tags: number[];
  remark?: string;
  fetchedAt: Date;
}

export interface FailedProfile extends ProfileBase {
  state: 'failed';
  openId: string;
  errcode: number;
  failedAt: Date;
}

export interface ErasedProfile extends ProfileBase {
  state: 'erased';
  erasedAt: Date;
}

function pseudonymOf(event: ProfileEvent): string {
  if (!event.subject) throw new Error(`${event.type} ${event.id} has no subject`);
  return event.subject;
}

/** Profile events as opened: personal fields in clear, or `openId` '' once the user's key is gone. */
export function profileProjection(): DocumentProjection<ProfileEvent, ProfileDocument> {
  return {
    documentId: pseudonymOf,
    eventId: (event) => event.id,
    eventTime: (event) => event.data.at,
    evolve(current, event, position) {
      const _id = pseudonymOf(event);
      const at = new Date(event.data.at * 1000);
      // A look-up whose user is erased since: nothing in it can be read, and nothing is to be kept.
      if ('openId' in event.data && event.type !== 'wechat.profile.erased' && event.data.openId === '') {
        return current ? { ...current, position } : null;
      }
      // A look-up made before the user left must not bring them back.
      if (current?.state === 'erased' && event.type !== 'wechat.profile.erased' && at <= current.erasedAt) {
        return { ...current, position };
      }
      switch (event.type) {
        case 'wechat.profile.fetched': {
          const d = event.data;
          if (d.subscribe === 0) return { _id, appId: d.appId, state: 'erased', erasedAt: at, position };
          return {
            _id,
            appId: d.appId,
            state: 'known',
            openId: d.openId,
            ...(d.unionId === undefined ? {} : { unionId: d.unionId }),
            ...(d.language === undefined ? {} : { language: d.language }),
            ...(d.subscribeScene === undefined ? {} : { subscribeScene: d.subscribeScene }),
            ...(d.qrScene === undefined ? {} : { qrScene: d.qrScene }),
            ...(d.qrSceneStr === undefined ? {} : { qrSceneStr: d.qrSceneStr }),
            tags: d.tags,
            ...(d.remark === undefined ? {} : { remark: d.remark }),
            fetchedAt: at,
            position,
          };
        }
        case 'wechat.profile.fetch_failed':
          if (current?.state === 'known') return { ...current, position };
          return {
            _id,
            appId: event.data.appId,
            state: 'failed',
            openId: event.data.openId,
            errcode: event.data.errcode,
            failedAt: at,
            position,
          };
        case 'wechat.profile.erased':
          return { _id, appId: event.data.appId, state: 'erased', erasedAt: at, position };
        case 'wechat.profile.tagged': {
          // The look-up came before the tagging, so its tag list lacks the campaign's tag.
          if (current?.state !== 'known') return current ? { ...current, position } : null;
          const { tagId } = event.data;
          const tags = current.tags.includes(tagId) ? current.tags : [...current.tags, tagId];
          return { ...current, tags, position };
        }
        case 'wechat.profile.tagging_failed':
          return current ? { ...current, position } : null;
        default:
          // A type of a newer release (read during a rolling upgrade, say) leaves the profile as it is.
          return current ? { ...current, position } : null;
      }
    },
  };
}
