import type { WechatEvent } from '@wxp/contracts';
import { erasurePlanOf, erasureStepOf } from '../src/erasure';
import { testPseudonymOf } from '../../../test/support/privacy';
import { wechatEvent } from '../../../test/support/wechat-events';

const appId = 'wx1';
const pseudonym = testPseudonymOf(appId, 'o1');
const createTime = 1_700_000_000;
const withKey = (event: WechatEvent, datakeyid = 'k1') => ({ ...event, datakeyid }) as WechatEvent;
const unsubscribed = withKey(wechatEvent('wechat.user.unsubscribed', appId, 'o1', createTime));
const erasure = {
  ...wechatEvent('wechat.user.subscribed', appId, 'o1', createTime),
  type: 'wechat.user.erased',
  data: { appId, requestedAt: createTime + 50 },
} as WechatEvent;

describe('what an event asks of its user data keys', () => {
  it('an unfollow without a grace period: the keys up to the unfollow go now', () => {
    expect(erasureStepOf(unsubscribed, 0)).toEqual({ action: 'erase', pseudonym, upTo: 'k1' });
  });

  it('an unfollow with a grace period: the same keys, at the unfollow time plus the grace', () => {
    expect(erasureStepOf(unsubscribed, 2)).toEqual({
      action: 'schedule',
      pseudonym,
      upTo: 'k1',
      at: new Date((createTime + 2) * 1000),
    });
  });

  it('an unfollow written as erased (no key id): its keys went before, nothing to do', () => {
    const { datakeyid: _none, ...asErased } = unsubscribed;
    expect(erasureStepOf(asErased as WechatEvent, 0)).toBeUndefined();
    expect(erasureStepOf(asErased as WechatEvent, 60)).toBeUndefined();
  });

  it('a follow: the grace periods still running at its time end without erasure', () => {
    const subscribed = withKey(wechatEvent('wechat.user.subscribed', appId, 'o1', createTime + 1), 'k2');
    const step = { action: 'cancel', pseudonym, followedAt: new Date((createTime + 1) * 1000) };
    expect(erasureStepOf(subscribed, 0)).toEqual(step);
    expect(erasureStepOf(subscribed, 60)).toEqual(step);
  });

  it('an erasure request: every key made by the end of the second it was asked in, whatever the grace', () => {
    const step = { action: 'erase', pseudonym, madeBy: new Date((createTime + 50) * 1000 + 999) };
    expect(erasureStepOf(erasure, 0)).toEqual(step);
    expect(erasureStepOf(erasure, 3600)).toEqual(step);
  });

  it('other events, or events without a subject, leave keys alone', () => {
    for (const type of ['wechat.menu.clicked', 'wechat.qrcode.scanned', 'wechat.message.received'] as const)
      expect(erasureStepOf(withKey(wechatEvent(type, appId, 'o1', createTime)), 0)).toBeUndefined();
    const { subject: _none, ...anonymous } = unsubscribed;
    expect(erasureStepOf(anonymous as WechatEvent, 0)).toBeUndefined();
  });
});

describe('what a batch asks of its users’ data keys', () => {
  const other = testPseudonymOf(appId, 'o2');
  const followOf = (openId: string, at: number) =>
    withKey(wechatEvent('wechat.user.subscribed', appId, openId, at), `k-${openId}-${at}`);
  const unfollowOf = (openId: string, at: number) =>
    withKey(wechatEvent('wechat.user.unsubscribed', appId, openId, at), `k-${openId}-${at}`);

  it('one list per user, each in the order of their events', () => {
    const plan = erasurePlanOf(
      [followOf('o1', 1), followOf('o2', 2), unfollowOf('o1', 3), followOf('o1', 4), unfollowOf('o2', 5)],
      () => 0,
    );
    expect(plan).toEqual([
      [
        { action: 'cancel', pseudonym, followedAt: new Date(1000) },
        { action: 'erase', pseudonym, upTo: 'k-o1-3' },
        { action: 'cancel', pseudonym, followedAt: new Date(4000) },
      ],
      [
        { action: 'cancel', pseudonym: other, followedAt: new Date(2000) },
        { action: 'erase', pseudonym: other, upTo: 'k-o2-5' },
      ],
    ]);
  });

  it('follows in a row ask the store once, as the first; a follow after an unfollow still cancels its schedule', () => {
    const plan = erasurePlanOf(
      [followOf('o1', 1), followOf('o1', 2), followOf('o1', 3), unfollowOf('o1', 4), followOf('o1', 5)],
      (id) => (id === appId ? 60 : 0),
    );
    expect(plan).toEqual([
      [
        { action: 'cancel', pseudonym, followedAt: new Date(1000) },
        { action: 'schedule', pseudonym, upTo: 'k-o1-4', at: new Date((4 + 60) * 1000) },
        { action: 'cancel', pseudonym, followedAt: new Date(5000) },
      ],
    ]);
  });

  it('a batch of events that leave keys alone asks nothing', () => {
    expect(
      erasurePlanOf([withKey(wechatEvent('wechat.menu.clicked', appId, 'o1', createTime))], () => 0),
    ).toEqual([]);
  });
});
