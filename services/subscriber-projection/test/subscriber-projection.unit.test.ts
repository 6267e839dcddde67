import type { WechatEvent } from '@wxp/contracts';
import { subscriberProjection, subscriberId } from '../src/subscriber-projection';
import { projectionSpec } from '../../../test/support/projection-spec';

const appId = 'wxapp';
let seq = 0;

function event(
  type: WechatEvent['type'],
  openId: string,
  createTime: number,
  extra: Record<string, unknown> = {},
) {
  seq += 1;
  return {
    specversion: '1.0',
    id: `evt-${seq}`,
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

const spec = projectionSpec(subscriberProjection);

describe('subscriber projection', () => {
  it('records a follow through a QR code with its scene', () => {
    spec
      .given()
      .when(event('wechat.user.subscribed', 'u1', 1_700_000_000, { scene: '42', sceneId: 42, ticket: 'T' }))
      .then((docs) => {
        const doc = docs.get(subscriberId(appId, 'u1'));
        expect(doc).toMatchObject({
          appId,
          openId: 'u1',
          subscribed: true,
          subscribedAt: new Date(1_700_000_000_000),
          scene: '42',
          sceneId: 42,
          ticket: 'T',
        });
      });
  });

  it('deletes everything about the user on unsubscribe', () => {
    spec
      .given(event('wechat.user.subscribed', 'u1', 100, { scene: 'spring' }))
      .when(event('wechat.user.unsubscribed', 'u1', 200))
      .then((docs) => expect(docs.size).toBe(0));
  });

  it('starts a fresh record when the user follows again', () => {
    spec
      .given(
        event('wechat.user.subscribed', 'u1', 100, { scene: 'old' }),
        event('wechat.user.unsubscribed', 'u1', 200),
      )
      .when(event('wechat.user.subscribed', 'u1', 300))
      .then((docs) => {
        const doc = docs.get(subscriberId(appId, 'u1'));
        expect(doc?.subscribedAt).toEqual(new Date(300_000));
        expect(doc).not.toHaveProperty('scene');
      });
  });

  it('moves last activity on other events of a follower', () => {
    spec
      .given(event('wechat.user.subscribed', 'u1', 100))
      .when(
        event('wechat.menu.clicked', 'u1', 150),
        event('wechat.qrcode.scanned', 'u1', 160, { scene: '7' }),
      )
      .then((docs) => {
        const doc = docs.get(subscriberId(appId, 'u1'));
        expect(doc?.lastActivityAt).toEqual(new Date(160_000));
        expect(doc?.subscribedAt).toEqual(new Date(100_000));
      });
  });

  it('does not invent followers from events of users it never saw follow', () => {
    spec
      .given()
      .when(event('wechat.menu.clicked', 'u2', 150), event('wechat.message.received', 'u2', 151))
      .then((docs) => expect(docs.size).toBe(0));
  });

  it('keeps users of different accounts apart', () => {
    const other = event('wechat.user.subscribed', 'u1', 100);
    (other.data as { appId: string }).appId = 'wxother';
    spec
      .given(event('wechat.user.subscribed', 'u1', 100))
      .when(other, event('wechat.user.unsubscribed', 'u1', 120))
      .then((docs) => {
        expect([...docs.keys()]).toEqual([subscriberId('wxother', 'u1')]);
      });
  });
});
