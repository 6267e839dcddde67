import {
  ProfileErased,
  ProfileFetchFailed,
  ProfileFetched,
  derivedEventId,
  sourceOfApp,
  type CloudEvent,
  type DataOf,
  type EventDefinition,
  type ProfileEvent,
} from '@wxp/contracts';
import type { UserInfo } from '@wxp/wechat-api';

/**
 * Profile events, personal fields still in clear: the caller seals them with the user's data key
 * before they go anywhere. `pseudonym` is the user's subject on every topic.
 */
function envelope<D>(
  definition: EventDefinition,
  causedBy: string,
  appId: string,
  pseudonym: string,
  data: D,
): CloudEvent<string, D> {
  return {
    specversion: '1.0',
    id: derivedEventId(definition.type, causedBy),
    source: sourceOfApp(appId),
    type: definition.type,
    subject: pseudonym,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: definition.dataschema,
    causationid: causedBy,
    data,
  };
}

/** user/info's answer as a wechat.profile.fetched event (nickname and avatar are no longer given). */
export function profileFetched(
  appId: string,
  pseudonym: string,
  info: UserInfo,
  causedBy: string,
): ProfileEvent {
  const data: DataOf<typeof ProfileFetched> = {
    appId,
    openId: info.openid,
    causedBy,
    at: Math.floor(Date.now() / 1000),
    subscribe: info.subscribe,
    ...(info.unionid ? { unionId: info.unionid } : {}),
    ...(info.language ? { language: info.language } : {}),
    ...(info.subscribe_time ? { subscribeTime: info.subscribe_time } : {}),
    ...(info.subscribe_scene ? { subscribeScene: info.subscribe_scene } : {}),
    ...(info.qr_scene ? { qrScene: info.qr_scene } : {}),
    ...(info.qr_scene_str ? { qrSceneStr: info.qr_scene_str } : {}),
    tags: info.tagid_list ?? [],
    ...(info.remark ? { remark: info.remark } : {}),
  };
  return envelope(ProfileFetched, causedBy, appId, pseudonym, data) as ProfileEvent;
}

export function profileFetchFailed(
  appId: string,
  pseudonym: string,
  openId: string,
  causedBy: string,
  errcode: number,
  errmsg: string,
): ProfileEvent {
  return envelope(ProfileFetchFailed, causedBy, appId, pseudonym, {
    appId,
    openId,
    causedBy,
    at: Math.floor(Date.now() / 1000),
    errcode,
    errmsg,
  }) as ProfileEvent;
}

/**
 * Whatever is known of the user must go. `openId` is '' when it can no longer be read (the user's
 * key is gone, or an erasure request named only the pseudonym): such an event is written as erased.
 */
export function profileErased(
  appId: string,
  pseudonym: string,
  openId: string,
  causedBy: string,
  at: number,
): ProfileEvent {
  return envelope(ProfileErased, causedBy, appId, pseudonym, { appId, openId, causedBy, at }) as ProfileEvent;
}
