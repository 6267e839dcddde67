import type { WechatEvent } from '@wxp/contracts';
import { testPseudonymOf } from './privacy';

let sequence = 0;

/** A canonical event as a consumer sees it once opened, for pure projection tests. */
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
    subject: testPseudonymOf(appId, openId),
    time: new Date(createTime * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: `urn:wxp:schema:${type}:v2`,
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
