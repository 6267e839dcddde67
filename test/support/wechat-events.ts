import type { WechatEvent } from '@wxp/contracts';

let sequence = 0;

/** A canonical event as the gateway would make it, for pure projection tests. */
export function wechatEvent(
  type: WechatEvent['type'],
  appId: string,
  openId: string,
  createTime: number,
  extra: Record<string, unknown> = {},
): WechatEvent {
  sequence += 1;
  return {
    specversion: '1.0',
    id: `evt-${sequence}`,
    source: `/wechat/${appId}`,
    type,
    subject: openId,
    time: new Date(createTime * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: `urn:wxp:schema:${type}:v1`,
    data: {
      appId,
      openId,
      accountId: 'gh_test',
      createTime,
      fields: {},
      msgType: 'event',
      key: 'k',
      url: 'u',
      ...extra,
    },
  } as unknown as WechatEvent;
}
