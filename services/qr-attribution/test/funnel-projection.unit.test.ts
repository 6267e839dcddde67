import { noFunnelFigures, type FunnelFigures, type WechatEvent } from '@wxp/contracts';
import { foldEvents } from '@wxp/mongo';
import {
  campaignFunnelProjection,
  funnelChangeOf,
  journeyProjection,
  type CampaignFunnelDocument,
  type JourneyDocument,
} from '../src/funnel-projection';
import { funnelHistory, handCountedFunnel } from '../../../test/support/funnel-history';
import { projectionSpec } from '../../../test/support/projection-spec';
import { testPseudonymOf } from '../../../test/support/privacy';
import { wechatEvent } from '../../../test/support/wechat-events';

const appId = 'wxfunnel';
const start = 1_700_000_000; // 2023-11-15 06:13 in China
const HOUR = 3_600;
const DAY = 24 * HOUR;

const event = (type: WechatEvent['type'], openId: string, at: number, extra: Record<string, unknown> = {}) =>
  wechatEvent(type, appId, openId, start + at, extra);

/**
 * Journeys and funnels folded batch by batch as the service does, every batch delivered twice (a
 * crash before the commit), with `partitionOf` spreading users over partitions as keys do.
 */
function funnelsOf(
  events: readonly WechatEvent[],
  options: { batch?: number; partitionOf?: (event: WechatEvent) => number } = {},
): CampaignFunnelDocument[] {
  const projection = journeyProjection();
  const journeys = new Map<string, JourneyDocument>();
  const funnels = new Map<string, CampaignFunnelDocument>();
  const partitionOf = options.partitionOf ?? (() => 0);
  const batchSize = options.batch ?? 4;
  const positions = new Map<number, number>();
  const positioned = events.map((e) => {
    const partition = partitionOf(e);
    const position = (positions.get(partition) ?? 0) + 1;
    positions.set(partition, position);
    return { position, partition, event: e };
  });
  for (let from = 0; from < positioned.length; from += batchSize) {
    const batch = positioned.slice(from, from + batchSize);
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const folded = foldEvents(projection, journeys, batch);
      const partitionByEvent = new Map(batch.map((e) => [e.event, e.partition]));
      const changes = folded.transitions.flatMap((t) => {
        const change = funnelChangeOf(t, partitionByEvent.get(t.event) ?? 0);
        return change ? [{ position: t.position, event: change }] : [];
      });
      for (const [id, doc] of foldEvents(campaignFunnelProjection, funnels, changes).documents)
        if (doc) funnels.set(id, doc);
      for (const [id, doc] of folded.documents) {
        if (doc) journeys.set(id, doc);
        else journeys.delete(id);
      }
    }
  }
  return [...funnels.values()];
}

/** One scene's figures per cohort day, over all partitions. */
function daysOf(funnels: CampaignFunnelDocument[], scene: string): Record<string, FunnelFigures> {
  const days: Record<string, FunnelFigures> = {};
  for (const funnel of funnels.filter((f) => f.scene === scene))
    for (const [day, figures] of Object.entries(funnel.days)) {
      const sum = days[day] ?? noFunnelFigures();
      for (const [measure, value] of Object.entries(figures)) sum[measure as keyof FunnelFigures] += value;
      days[day] = sum;
    }
  return days;
}

const only = (figures: Partial<FunnelFigures>): FunnelFigures => ({ ...noFunnelFigures(), ...figures });

describe('campaign funnel', () => {
  it('matches the funnel counted by hand for a scripted history', () => {
    const history = funnelHistory(appId);
    const funnels = funnelsOf(history);
    expect(daysOf(funnels, 'spring')).toEqual(handCountedFunnel.spring);
    expect(daysOf(funnels, 'metro')).toEqual(handCountedFunnel.metro);
    expect(new Set(funnels.map((f) => f.scene))).toEqual(new Set(['spring', 'metro']));
  });

  it('gives the same funnel whatever the batches and however users spread over partitions', () => {
    const history = funnelHistory(appId);
    const bySubject = (e: WechatEvent) => (e.subject ?? '').charCodeAt(0) % 3;
    for (const options of [{ batch: 1 }, { batch: 7, partitionOf: bySubject }, { batch: 100 }]) {
      const funnels = funnelsOf(history, options);
      expect(daysOf(funnels, 'spring')).toEqual(handCountedFunnel.spring);
      expect(daysOf(funnels, 'metro')).toEqual(handCountedFunnel.metro);
    }
  });

  it('counts every figure on the day of the follow, with the windows inclusive', () => {
    const follow = (user: string) => event('wechat.user.subscribed', user, 0, { scene: 'autumn' });
    const funnels = funnelsOf([
      follow('a'),
      event('wechat.menu.clicked', 'a', 24 * HOUR),
      event('wechat.user.unsubscribed', 'a', 7 * DAY),
      follow('b'),
      event('wechat.message.received', 'b', 24 * HOUR + 1, { msgType: 'text' }),
      event('wechat.user.unsubscribed', 'b', 7 * DAY + 1),
      follow('c'),
      event('wechat.user.unsubscribed', 'c', 30 * DAY),
      follow('d'),
      event('wechat.user.unsubscribed', 'd', 30 * DAY + 1),
    ]);
    expect(daysOf(funnels, 'autumn')).toEqual({
      '2023-11-15': only({
        scans: 4,
        newFollows: 4,
        engagedWithin24h: 1,
        unfollowedWithin7d: 1,
        unfollowedWithin30d: 3,
      }),
    });
  });

  it('counts the first engagement only, and only menu taps and messages as engagement', () => {
    const funnels = funnelsOf([
      event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' }),
      event('wechat.location.reported', 'a', 60),
      event('wechat.subscription.popup_answered', 'a', 120),
      event('wechat.reply.sent', 'a', 130),
      event('wechat.user.subscribed', 'b', 0, { scene: 'autumn' }),
      event('wechat.image.received', 'b', 60),
      event('wechat.menu.clicked', 'b', 120),
      event('wechat.user.subscribed', 'c', 0, { scene: 'autumn' }),
      // A menu scan from before the push had a type of its own, as the log keeps it.
      event('wechat.event.received', 'c', 60, { event: 'scancode_push' }),
      event('wechat.user.subscribed', 'd', 0, { scene: 'autumn' }),
      event('wechat.event.received', 'd', 60, { event: 'LOCATION' }),
    ]);
    expect(daysOf(funnels, 'autumn')['2023-11-15']).toEqual(
      only({ scans: 4, newFollows: 4, engagedWithin24h: 2 }),
    );
  });

  it('counts a former follower coming back as returning, and a late retry of a push as nothing', () => {
    const funnels = funnelsOf([
      event('wechat.user.subscribed', 'a', 0),
      event('wechat.user.unsubscribed', 'a', HOUR),
      // A retry of a push from before the unfollow, arriving after it.
      event('wechat.user.subscribed', 'a', 30 * 60, { scene: 'autumn' }),
      event('wechat.user.subscribed', 'a', 2 * DAY, { scene: 'autumn' }),
      event('wechat.menu.viewed', 'a', 2 * DAY + HOUR),
    ]);
    expect(daysOf(funnels, 'autumn')).toEqual({
      '2023-11-17': only({ scans: 1, returningFollows: 1, engagedWithin24h: 1 }),
    });
  });

  it('counts a follower’s scan on its own day, and never for a follow it did not bring', () => {
    const funnels = funnelsOf([
      event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' }),
      event('wechat.qrcode.scanned', 'a', HOUR, { scene: 'winter' }),
      event('wechat.menu.clicked', 'a', 2 * HOUR),
      // A follower the log never saw follow: their scan counts, nothing after it does.
      event('wechat.qrcode.scanned', 'b', DAY, { scene: 'winter' }),
      event('wechat.menu.clicked', 'b', DAY + 60),
      event('wechat.user.unsubscribed', 'b', 2 * DAY),
    ]);
    expect(daysOf(funnels, 'autumn')).toEqual({
      '2023-11-15': only({ scans: 1, newFollows: 1, engagedWithin24h: 1 }),
    });
    expect(daysOf(funnels, 'winter')).toEqual({
      '2023-11-15': only({ scans: 1 }),
      '2023-11-16': only({ scans: 1 }),
    });
  });

  it('keeps a follower’s cohort while they follow, and only a tombstone after', () => {
    const spec = projectionSpec(journeyProjection());
    const id = testPseudonymOf(appId, 'a');
    spec
      .given(event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' }))
      .when(event('wechat.menu.clicked', 'a', 23 * HOUR))
      .then((docs) =>
        expect(docs.get(id)).toMatchObject({
          appId,
          state: 'following',
          cohort: { scene: 'autumn', day: '2023-11-15', followedAt: start, returning: false, engaged: true },
        }),
      );
    spec
      .given(event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' }))
      .when(event('wechat.menu.clicked', 'a', 25 * HOUR))
      .then((docs) => expect(docs.get(id)).toMatchObject({ cohort: { engaged: false } }));
    spec
      .given(event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' }))
      .when(event('wechat.user.unsubscribed', 'a', DAY))
      .then((docs) => {
        expect(docs.get(id)).toMatchObject({ state: 'unsubscribed', unsubscribedAt: start + DAY });
        expect(Object.keys(docs.get(id) ?? {}).sort()).toEqual([
          '_id',
          'appId',
          'position',
          'recentEvents',
          'state',
          'unsubscribedAt',
        ]);
      });
  });

  it('changes nothing for an event stored twice, even at a new offset', () => {
    const follow = event('wechat.user.subscribed', 'a', 0, { scene: 'autumn' });
    const click = event('wechat.menu.clicked', 'a', 60);
    const leave = event('wechat.user.unsubscribed', 'a', DAY);
    const funnels = funnelsOf([follow, follow, click, click, leave, leave]);
    expect(daysOf(funnels, 'autumn')).toEqual({
      '2023-11-15': only({
        scans: 1,
        newFollows: 1,
        engagedWithin24h: 1,
        unfollowedWithin7d: 1,
        unfollowedWithin30d: 1,
      }),
    });
  });
});
