import type { WechatEvent } from '@wxp/contracts';
import { foldEvents } from '@wxp/mongo';
import {
  followerChangeOf,
  followerCountsProjection,
  subscriberProjection,
  type SubscriberDocument,
} from '../src/subscriber-projection';
import { projectionSpec } from '../../../test/support/projection-spec';
import { wechatEvent } from '../../../test/support/wechat-events';
import { testPseudonymOf } from '../../../test/support/privacy';

const appId = 'wxapp';

function event(
  type: WechatEvent['type'],
  openId: string,
  createTime: number,
  extra: Record<string, unknown> = {},
) {
  return wechatEvent(type, appId, openId, createTime, extra);
}

const spec = projectionSpec(subscriberProjection());
const id = (openId: string) => testPseudonymOf(appId, openId);

let erasures = 0;

/** The erasure the admin API publishes: the pseudonym as subject, no personal field. */
function erased(openId: string, requestedAt: number): WechatEvent {
  erasures += 1;
  return {
    specversion: '1.0',
    id: `erased-${erasures}`,
    source: `/wechat/${appId}`,
    type: 'wechat.user.erased',
    subject: id(openId),
    time: new Date(requestedAt * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'urn:wxp:schema:wechat.user.erased:v1',
    data: { appId, requestedAt },
  };
}

/** An event of a user whose key was destroyed, as the opener hands it over. */
function readAsErased(type: WechatEvent['type'], openId: string, createTime: number): WechatEvent {
  return event(type, openId, createTime, { openId: '' });
}

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
          // Hashes of the ids of the events applied, to recognise one stored twice.
          recentEvents: expect.arrayContaining([]) as unknown,
        });
        expect(tombstone?.recentEvents).toHaveLength(3);
        expect(tombstone?.recentEvents?.every((id) => /^[\w-]{8}\.[0-9a-z]+$/.test(id))).toBe(true);
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

describe("a follower's last activity", () => {
  it('is moved by what they did, not by a report about them kept untyped, nor by a type it does not know', () => {
    const untypedReceipt = event('wechat.event.received', 'u1', 200, { event: 'TEMPLATESENDJOBFINISH' });
    const untypedSession = event('wechat.event.received', 'u1', 210, { event: 'kf_close_session' });
    const newer = { ...event('wechat.menu.clicked', 'u1', 220), id: 'newer', type: 'wechat.future.thing' };
    spec
      .given(event('wechat.user.subscribed', 'u1', 100), event('wechat.menu.clicked', 'u1', 150))
      .when(untypedReceipt, untypedSession, newer as unknown as WechatEvent)
      .then((docs) => expect(docs.get(id('u1'))).toMatchObject({ lastActivityAt: new Date(150_000) }));
    spec
      .given(event('wechat.user.subscribed', 'u1', 100))
      .when(event('wechat.event.received', 'u1', 230, { event: 'scancode_push' }))
      .then((docs) => expect(docs.get(id('u1'))).toMatchObject({ lastActivityAt: new Date(230_000) }));
  });
});

describe('an erased user', () => {
  it('stays a counted follower without an openId', () => {
    spec
      .given(
        event('wechat.user.subscribed', 'u1', 100, { scene: 'spring' }),
        event('wechat.menu.clicked', 'u1', 150),
      )
      .when(erased('u1', 300))
      .then((docs) => {
        const doc = docs.get(id('u1'));
        expect(doc).toMatchObject({
          _id: id('u1'),
          appId,
          state: 'following',
          firstSubscribedAt: new Date(100_000),
          lastActivityAt: new Date(150_000),
          scene: 'spring',
        });
        expect(doc).not.toHaveProperty('openId');
        expect(JSON.stringify(doc)).not.toContain('"u1"');
      });
  });

  it('does not get the openId back from later events, which read as erased', () => {
    spec
      .given(event('wechat.user.subscribed', 'u1', 100), erased('u1', 200))
      .when(readAsErased('wechat.menu.clicked', 'u1', 250), readAsErased('wechat.user.subscribed', 'u1', 260))
      .then((docs) => {
        const doc = docs.get(id('u1'));
        expect(doc).toMatchObject({ state: 'following', lastActivityAt: new Date(260_000) });
        expect(doc).not.toHaveProperty('openId');
      });
  });

  it('whose follow is read after the erasure (a replay) is filed without an openId', () => {
    spec
      .given()
      .when(readAsErased('wechat.user.subscribed', 'u1', 100), erased('u1', 200))
      .then((docs) => {
        expect(docs.get(id('u1'))).toMatchObject({
          state: 'following',
          firstSubscribedAt: new Date(100_000),
        });
        expect(docs.get(id('u1'))).not.toHaveProperty('openId');
      });
  });

  it('changes nothing for a tombstone or for a user never seen, and can still unfollow', () => {
    spec
      .given(event('wechat.user.subscribed', 'u1', 100), event('wechat.user.unsubscribed', 'u1', 200))
      .when(erased('u1', 300), erased('u2', 300))
      .then((docs) => {
        expect(docs.get(id('u1'))).toMatchObject({
          state: 'unsubscribed',
          unsubscribedAt: new Date(200_000),
        });
        expect(docs.has(id('u2'))).toBe(false);
      });
    spec
      .given(event('wechat.user.subscribed', 'u3', 100), erased('u3', 150))
      .when(readAsErased('wechat.user.unsubscribed', 'u3', 200))
      .then((docs) => expect(docs.get(id('u3'))).toMatchObject({ state: 'unsubscribed' }));
  });

  it('is neither a follow nor an unfollow for the counts', () => {
    const events = [
      event('wechat.user.subscribed', 'a', 1_700_000_000),
      erased('a', 1_700_000_100),
      readAsErased('wechat.menu.clicked', 'a', 1_700_000_200),
    ].map((e, i) => ({ position: i + 1, event: e }));
    const { transitions } = foldEvents(subscriberProjection(), new Map<string, SubscriberDocument>(), events);
    expect(transitions.map((t) => followerChangeOf(t, 0)?.change)).toEqual(['follow', undefined, undefined]);
  });
});

describe('follower counts', () => {
  it('count follows and unfollows per day, as numbers, only for real changes', () => {
    const projection = subscriberProjection();
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
