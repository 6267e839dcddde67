import type { WechatEvent } from '@wxp/contracts';
import { foldEvents } from '@wxp/mongo';
import {
  attributionUserProjection,
  campaignChangeOf,
  campaignCountsProjection,
  type AttributionUserDocument,
  type CampaignCountsDocument,
} from '../src/attribution-projection';
import { projectionSpec } from '../../../test/support/projection-spec';
import { testPseudonymOf } from '../../../test/support/privacy';
import { wechatEvent } from '../../../test/support/wechat-events';

const appId = 'wxapp';
const day = 1_700_000_000; // 2023-11-15 in China

function event(
  type: WechatEvent['type'],
  openId: string,
  offset: number,
  extra: Record<string, unknown> = {},
) {
  return wechatEvent(type, appId, openId, day + offset, extra);
}

/** Users and campaign counts folded batch by batch, as the service does. */
function foldBatches(
  batches: { position: number; event: WechatEvent }[][],
): Map<string, CampaignCountsDocument | null> {
  const projection = attributionUserProjection();
  const users = new Map<string, AttributionUserDocument>();
  const counts = new Map<string, CampaignCountsDocument>();
  for (const batch of batches) {
    const folded = foldEvents(projection, users, batch);
    const changes = folded.transitions.flatMap((t) => {
      const change = campaignChangeOf(t, 0);
      return change ? [{ position: t.position, event: change }] : [];
    });
    for (const [id, doc] of foldEvents(campaignCountsProjection, counts, changes).documents)
      if (doc) counts.set(id, doc);
    for (const [id, doc] of folded.documents) if (doc) users.set(id, doc);
  }
  return counts;
}

/** Every event delivered twice, the second time at the same positions (a batch redelivered). */
function campaigns(...events: WechatEvent[]): Map<string, CampaignCountsDocument | null> {
  const positioned = events.map((e, i) => ({ position: i + 1, event: e }));
  return foldBatches([positioned, positioned]);
}

/** Each event stored on the topic twice, the copy at the next offset, read three at a time. */
function campaignsStoredTwice(...events: WechatEvent[]): Map<string, CampaignCountsDocument | null> {
  const stored = events.flatMap((e, i) => [
    { position: 2 * i + 1, event: e },
    { position: 2 * i + 2, event: e },
  ]);
  const batches = [];
  for (let from = 0; from < stored.length; from += 3) batches.push(stored.slice(from, from + 3));
  return foldBatches(batches);
}

const figures = (counts: Map<string, CampaignCountsDocument | null>, scene: string) => {
  const doc = counts.get(`${appId}\n${scene}\n0`);
  return doc
    ? {
        scans: doc.scans,
        subscribes: doc.subscribes,
        returning: doc.returning,
        unsubscribes: doc.unsubscribes,
      }
    : undefined;
};

describe('QR attribution', () => {
  it('counts new followers through a code, scans by followers, and the unfollows of those it brought', () => {
    const counts = campaigns(
      event('wechat.user.subscribed', 'a', 1, { scene: 'spring', ticket: 'T' }),
      event('wechat.qrcode.scanned', 'a', 2, { scene: 'spring' }),
      event('wechat.qrcode.scanned', 'a', 3, { scene: 'summer' }),
      event('wechat.user.subscribed', 'b', 4),
      event('wechat.qrcode.scanned', 'b', 5, { scene: 'spring' }),
      event('wechat.user.unsubscribed', 'a', 6),
      event('wechat.user.unsubscribed', 'b', 7),
    );
    expect(figures(counts, 'spring')).toEqual({ scans: 2, subscribes: 1, returning: 0, unsubscribes: 1 });
    expect(figures(counts, 'summer')).toEqual({ scans: 1, subscribes: 0, returning: 0, unsubscribes: 0 });
    expect(counts.get(`${appId}\nspring\n0`)?.days).toEqual({
      '2023-11-15': { scans: 2, subscribes: 1, returning: 0, unsubscribes: 1 },
    });
  });

  it('counts an event stored twice on the topic once: the copy comes at a new offset but with the same id', () => {
    const history = [
      event('wechat.user.subscribed', 'a', 1, { scene: 'spring', ticket: 'T' }),
      event('wechat.qrcode.scanned', 'a', 2, { scene: 'spring' }),
      event('wechat.qrcode.scanned', 'a', 3, { scene: 'summer' }),
      event('wechat.menu.clicked', 'a', 4, { key: 'K' }),
      event('wechat.user.unsubscribed', 'a', 5),
      event('wechat.user.subscribed', 'a', 6, { scene: 'summer' }),
    ];
    const once = campaigns(...history);
    const twice = campaignsStoredTwice(...history);
    for (const scene of ['spring', 'summer']) expect(figures(twice, scene)).toEqual(figures(once, scene));
    expect(figures(twice, 'spring')).toEqual({ scans: 1, subscribes: 1, returning: 0, unsubscribes: 1 });
    expect(figures(twice, 'summer')).toEqual({ scans: 1, subscribes: 0, returning: 1, unsubscribes: 0 });
  });

  it('counts a former follower coming back through a code as returning, and ignores late events', () => {
    const counts = campaigns(
      event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }),
      event('wechat.user.unsubscribed', 'a', 10),
      event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }), // WeChat's late retry
      event('wechat.qrcode.scanned', 'a', 5, { scene: 'spring' }), // from before the unsubscribe
      event('wechat.user.subscribed', 'a', 20, { scene: 'autumn' }),
    );
    expect(figures(counts, 'spring')).toEqual({ scans: 0, subscribes: 1, returning: 0, unsubscribes: 1 });
    expect(figures(counts, 'autumn')).toEqual({ scans: 0, subscribes: 0, returning: 1, unsubscribes: 0 });
  });

  it('keeps first and last touch while the user follows, and only a tombstone after', () => {
    const spec = projectionSpec(attributionUserProjection());
    spec
      .given(event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }))
      .when(event('wechat.qrcode.scanned', 'a', 2, { scene: 'summer' }))
      .then((docs) => {
        expect(docs.get(testPseudonymOf(appId, 'a'))).toMatchObject({
          state: 'following',
          broughtBy: 'spring',
          firstTouchScene: 'spring',
          lastTouchScene: 'summer',
        });
      });
    spec
      .given(event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }))
      .when(event('wechat.user.unsubscribed', 'a', 2))
      .then((docs) => {
        const doc = docs.get(testPseudonymOf(appId, 'a'));
        expect(Object.keys(doc ?? {}).sort()).toEqual([
          '_id',
          'appId',
          'position',
          'recentEvents',
          'state',
          'unsubscribedAt',
        ]);
      });
  });

  it("files users under the events' subject, so no openId is needed to find them", () => {
    const subscribed = event('wechat.user.subscribed', 'a', 1, { scene: 'spring' });
    expect(attributionUserProjection().documentId(subscribed)).toBe(testPseudonymOf(appId, 'a'));
    const opened = { ...subscribed, data: { ...subscribed.data, openId: '' } } as WechatEvent;
    expect(attributionUserProjection().documentId(opened)).toBe(testPseudonymOf(appId, 'a'));
  });

  it('takes an erasure as a move of position only: the user and the figures stay as they were', () => {
    const erased = {
      ...event('wechat.user.subscribed', 'a', 3),
      type: 'wechat.user.erased',
      data: { appId, requestedAt: day + 3 },
    } as WechatEvent;
    const spec = projectionSpec(attributionUserProjection());
    spec
      .given(event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }))
      .when(erased)
      .then((docs) => {
        expect(docs.get(testPseudonymOf(appId, 'a'))).toMatchObject({
          state: 'following',
          broughtBy: 'spring',
          position: 2,
        });
      });
    const counts = campaigns(
      event('wechat.user.subscribed', 'a', 1, { scene: 'spring' }),
      event('wechat.user.unsubscribed', 'a', 2),
      erased,
    );
    expect(figures(counts, 'spring')).toEqual({ scans: 0, subscribes: 1, returning: 0, unsubscribes: 1 });
    expect(campaigns(erased).size).toBe(0);
  });
});
