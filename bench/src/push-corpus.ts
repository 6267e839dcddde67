import type { Account } from '@wxp/accounts';
import { buildPush, type PushFieldValues } from '@wxp/wechat-push';

/** A push as it goes over the wire: the request path with its signed query, and the body. */
export interface WirePush {
  path: string;
  body: string;
}

export function wirePush(account: Account, fields: PushFieldValues, timestamp?: number): WirePush {
  const built = buildPush(account, fields, timestamp === undefined ? {} : { timestamp });
  return { path: `/wechat/${account.appId}?${built.query}`, body: built.body };
}

/** A follow by a user no other push of this run names, so the gateway's duplicate check never short-circuits it. */
export function followFields(account: Account, openId: string, createTime: number): PushFieldValues {
  return {
    ToUserName: account.originalId ?? 'gh_unknown',
    FromUserName: openId,
    CreateTime: createTime,
    MsgType: 'event',
    Event: 'subscribe',
    EventKey: 'qrscene_bench',
  };
}

/**
 * `count` distinct signed (and, for a safe account, encrypted) follows, built before the load starts
 * so that signing and AES cost the load generator nothing while it measures.
 */
export function distinctFollows(account: Account, count: number, label: string): WirePush[] {
  const now = Math.floor(Date.now() / 1000);
  const pushes: WirePush[] = [];
  for (let i = 0; i < count; i++) {
    pushes.push(wirePush(account, followFields(account, `o${label}${i}`, now), now));
  }
  return pushes;
}
