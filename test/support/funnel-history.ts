import type { FunnelFigures, PushEvent } from '@wxp/contracts';
import { canonicalEvent } from './privacy';

/** 2026-03-02 00:00 in China (UTC+8): day 0 of the scripted history. */
const DAY_ZERO = Date.UTC(2026, 2, 1, 16) / 1000;
const at = (day: number, hour: number, minute = 0) => DAY_ZERO + day * 86_400 + hour * 3_600 + minute * 60;

/**
 * A small campaign history whose funnel is worked out by hand below: two codes (`spring`,
 * `metro`), follows late in a China day, a follower returning through a code, clicks 23 h and 25 h
 * after a follow, unfollows 5 d, 6 d, 6 d 23 h, 20 d and 40 d after one, and pushes stored twice
 * (one of them after its user has left). The events are in log order, copies included.
 */
export function funnelHistory(
  appId: string,
  openIdOf: (name: string) => string = (name) => name,
): PushEvent[] {
  const push = (name: string, time: number, fields: Record<string, string>) =>
    canonicalEvent(appId, {
      ToUserName: 'gh_funnel',
      FromUserName: openIdOf(name),
      CreateTime: String(time),
      MsgType: 'event',
      ...fields,
    });
  const follow = (name: string, time: number, scene?: string) =>
    push(name, time, { Event: 'subscribe', ...(scene ? { EventKey: `qrscene_${scene}`, Ticket: 'T' } : {}) });
  const scan = (name: string, time: number, scene: string) =>
    push(name, time, { Event: 'SCAN', EventKey: scene, Ticket: 'T' });
  const click = (name: string, time: number) => push(name, time, { Event: 'CLICK', EventKey: 'OFFERS' });
  const view = (name: string, time: number) =>
    push(name, time, { Event: 'VIEW', EventKey: 'https://example.com/' });
  const text = (name: string, time: number) =>
    push(name, time, { MsgType: 'text', Content: 'hello', MsgId: String(time) });
  const unfollow = (name: string, time: number) => push(name, time, { Event: 'unsubscribe' });

  const annFollows = follow('ann', at(0, 10), 'spring');
  const gusClicks = click('gus', at(2, 9));
  return [
    // eve follows through spring, leaves after 5 days, and comes back through metro a week later.
    follow('eve', at(-10, 10), 'spring'),
    unfollow('eve', at(-5, 10)),
    // fay follows without a code; her scan of spring later is a follower's scan.
    follow('fay', at(-3, 8)),
    // 2026-03-02
    follow('dan', at(0, 9), 'metro'),
    annFollows,
    view('dan', at(0, 11)), // 2 h after his follow
    scan('dan', at(0, 12), 'spring'),
    follow('ben', at(0, 22), 'spring'),
    click('ann', at(1, 9)), // 23 h after her follow
    // 2026-03-03
    follow('eve', at(1, 12), 'metro'),
    click('eve', at(1, 17)),
    click('ben', at(1, 23)), // 25 h after his follow: too late
    follow('cai', at(1, 23, 30), 'spring'),
    // 2026-03-04
    text('cai', at(2, 0, 30)), // an hour after her follow, the next day: counts on her follow's day
    follow('gus', at(2, 8), 'metro'),
    gusClicks,
    gusClicks, // stored twice
    scan('fay', at(2, 15), 'spring'),
    click('fay', at(2, 16)),
    unfollow('ann', at(6, 10)), // 6 days after her follow
    unfollow('gus', at(8, 7)), // 6 days 23 hours after his follow
    annFollows, // WeChat's retry of her follow, stored again after she left
    unfollow('ben', at(20, 22)), // 20 days after his follow
    unfollow('dan', at(40, 9)), // 40 days after his follow: in neither window
  ];
}

const figures = (
  scans: number,
  newFollows: number,
  returningFollows: number,
  engagedWithin24h: number,
  unfollowedWithin7d: number,
  unfollowedWithin30d: number,
): FunnelFigures => ({
  scans,
  newFollows,
  returningFollows,
  engagedWithin24h,
  unfollowedWithin7d,
  unfollowedWithin30d,
});

/** The funnel of `funnelHistory`, per scene and cohort day (China time), counted by hand. */
export const handCountedFunnel: Record<'spring' | 'metro', Record<string, FunnelFigures>> = {
  spring: {
    // eve: a new follow, gone after 5 days.
    '2026-02-20': figures(1, 1, 0, 0, 1, 1),
    // ann and ben follow, dan (a follower) scans; ann clicks at 23 h, ben at 25 h; ann leaves
    // after 6 days (both windows), ben after 20 (30 days only).
    '2026-03-02': figures(3, 2, 0, 1, 1, 2),
    // cai follows at 23:30 and writes at 00:30.
    '2026-03-03': figures(1, 1, 0, 1, 0, 0),
    // fay, a follower, scans.
    '2026-03-04': figures(1, 0, 0, 0, 0, 0),
  },
  metro: {
    // dan follows and opens a menu link 2 h later; he leaves after 40 days.
    '2026-03-02': figures(1, 1, 0, 1, 0, 0),
    // eve comes back and clicks 5 h later.
    '2026-03-03': figures(1, 0, 1, 1, 0, 0),
    // gus follows, clicks an hour later (the click stored twice), leaves after 6 days 23 hours.
    '2026-03-04': figures(1, 1, 0, 1, 1, 1),
  },
};
