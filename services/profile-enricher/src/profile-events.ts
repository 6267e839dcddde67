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

function envelope<D>(
  definition: EventDefinition,
  causedBy: string,
  appId: string,
  openId: string,
  data: D,
): CloudEvent<string, D> {
  return {
    specversion: '1.0',
    id: derivedEventId(definition.type, causedBy),
    source: sourceOfApp(appId),
    type: definition.type,
    subject: openId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: definition.dataschema,
    causationid: causedBy,
    data,
  };
}

/** user/info's answer as a wechat.profile.fetched event (nickname and avatar are no longer given). */
export function profileFetched(appId: string, info: UserInfo, causedBy: string): ProfileEvent {
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
  return envelope(ProfileFetched, causedBy, appId, info.openid, data) as ProfileEvent;
}

export function profileFetchFailed(
  appId: string,
  openId: string,
  causedBy: string,
  errcode: number,
  errmsg: string,
): ProfileEvent {
  return envelope(ProfileFetchFailed, causedBy, appId, openId, {
    appId,
    openId,
    causedBy,
    at: Math.floor(Date.now() / 1000),
    errcode,
    errmsg,
  }) as ProfileEvent;
}

export function profileErased(appId: string, openId: string, causedBy: string, at: number): ProfileEvent {
  return envelope(ProfileErased, causedBy, appId, openId, { appId, openId, causedBy, at }) as ProfileEvent;
}
