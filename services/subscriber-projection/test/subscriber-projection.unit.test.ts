import { userKey, type WechatEvent } from '@wxp/contracts';
import { foldEvents } from '@wxp/mongo';
import {
  followerChangeOf,
  followerCountsProjection,
  subscriberProjection,
  type SubscriberDocument,
} from '../src/subscriber-projection';
import { projectionSpec } from '../../../test/support/projection-spec';
import { wechatEvent } from '../../../test/support/wechat-events';

const appId = 'wxapp';
const key = 'unit-test-privacy-key';

function event(
  type: WechatEvent['type'],
  openId: string,
  createTime: number,
  extra: Record<string, unknown> = {},
) {
  return wechatEvent(type, appId, openId, createTime, extra);
}

const spec = projectionSpec(subscriberProjection(key));
const id = (openId: string) => userKey(key, appId, openId);

describe('subscriber projection', () => {
  it('records a follow through a QR code with its scene', () => {
    spec
      .given()
      .when(event('wechat.user.subscribed', 'u1', 1_700_000_000, { scene: '42', sceneId: 42, ticket: 'T' }))
      .then((docs) => {
        expect(docs.get(id('u1'))).toMatchObject({
          appId,
          state: 'following',
          openId: 'u1',
          firstSubscribedAt: new Date(1_700_000_000_000),
          lastSubscribedAt: new Date(1_700_000_000_000),
          scene: '42',
          sceneId: 42,
          ticket: 'T',
        });
      });
  });

  it('keeps nothing personal after an unsubscribe: a tombstone with a keyed hash and the time', () => {
    spec
      .given(
        event('wechat.user.subscribed', 'u1', 100, { scene: 'spring' }),
        event('wechat.menu.clicked', 'u1', 150),
      )
      .when(event('wechat.user.unsubscribed', 'u1', 200))
      .then((docs) => {
        const tombstone = docs.get(id('u1'));
        expect(tombstone).toEqual({
          _id: id('u1'),
          appId,
          state: 'unsubscribed',
          unsubscribedAt: new Date(200_000),
          position: 3,
        });
        expect(JSON.stringify(tombstone)).not.toContain('u1');
      });
  });

  it('does not let a late subscribe from before the unsubscribe bring the user back', () => {
    spec
      .given(event('wechat.user.subscribed', 'u1', 100), event('wechat.user.unsubscribed', 'u1', 200))
      .when(
        event('wechat.user.subscribed', 'u1', 100, { scene: 'retried' }),
        event('wechat.menu.clicked', 'u1', 150),
      )
      .then((docs) => expect(docs.get(id('u1'))).toMatchObject({ state: 'unsubscribed' }));
  });

  it('starts a fresh record when the user genuinely follows again', () => {
    spec
      .given(
        event('wechat.user.subscribed', 'u1', 100, { scene: 'old' }),
        event('wechat.user.unsubscribed', 'u1', 200),
      )
      .when(event('wechat.user.subscribed', 'u1', 300))
      .then((docs) => {
        const doc = docs.get(id('u1'));
        expect(doc).toMatchObject({ state: 'following', firstSubscribedAt: new Date(300_000) });
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
        expect(docs.get(id('u1'))).toMatchObject({
          lastActivityAt: new Date(160_000),
          firstSubscribedAt: new Date(100_000),
        });
      });
  });

  it('does not invent followers from events of users it never saw follow', () => {
    spec
      .given()
      .when(event('wechat.menu.clicked', 'u2', 150), event('wechat.message.received', 'u2', 151))
      .then((docs) => expect(docs.size).toBe(0));
  });
});

describe('follower counts', () => {
  it('count follows and unfollows per day, as numbers, only for real changes', () => {
    const projection = subscriberProjection(key);
    const events = [
      event('wechat.user.subscribed', 'a', 1_700_000_000),
      event('wechat.user.subscribed', 'a', 1_700_000_100), // a repeat: no new follow
      event('wechat.user.subscribed', 'b', 1_700_100_000),
      event('wechat.user.unsubscribed', 'a', 1_700_110_000),
      event('wechat.user.subscribed', 'a', 1_700_000_050), // late: before the unsubscribe
    ].map((e, i) => ({ position: i + 1, event: e }));
    const { transitions } = foldEvents(projection, new Map<string, SubscriberDocument>(), events);
    const changes = transitions.flatMap((t) => {
      const change = followerChangeOf(t, 0);
      return change ? [{ position: t.position, event: change }] : [];
    });
    const counts = foldEvents(followerCountsProjection, new Map(), changes).documents.get(`${appId}:0`);
    expect(counts).toMatchObject({
      follows: 2,
      unfollows: 1,
      days: { '2023-11-15': { follows: 1, unfollows: 0 }, '2023-11-16': { follows: 1, unfollows: 1 } },
    });
    expect(JSON.stringify(counts)).not.toMatch(/"a"|"b"/);
  });
});
