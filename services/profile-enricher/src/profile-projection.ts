import { userKey, type ProfileEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';

/** What user/info said about a follower, filed under the keyed hash; a tombstone once they leave. */
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

export function profileProjection(privacyKey: string): DocumentProjection<ProfileEvent, ProfileDocument> {
  return {
    documentId: (event) => userKey(privacyKey, event.data.appId, event.data.openId),
    evolve(current, event, position) {
      const _id = userKey(privacyKey, event.data.appId, event.data.openId);
      const at = new Date(event.data.at * 1000);
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
        default: {
          const unhandled: never = event;
          return unhandled;
        }
      }
    },
  };
}
