import { randomBytes } from 'node:crypto';
import type { CloudEvent, WechatEvent } from '@wxp/contracts';
import type { OpenedConsumedEvent } from '@wxp/consumer-service';
import type { EventPublisher, OutgoingEvent } from '@wxp/kafka';
import { ERASED_VALUE, isSealedValue, openEvent, type DataKeyStore } from '@wxp/privacy';
import type { Logger } from '@wxp/service-runtime';
import { WechatApiError, type UserInfo, type WechatApiClient } from '@wxp/wechat-api';
import type { Db } from 'mongodb';
import { enricherBehaviour } from '../src/enricher';
import { testPseudonymOf } from '../../../test/support/privacy';
import { wechatEvent } from '../../../test/support/wechat-events';

const appId = 'wx1';
const pseudonym = testPseudonymOf(appId, 'o1');
const now = Math.floor(Date.now() / 1000);
const key = { id: 'k1', key: randomBytes(32) };
const silent = { debug: () => undefined } as unknown as Logger;

/** The enricher over fakes: `stored` holds the data keys the store still has; `refusal` what WeChat answers. */
function enricher(stored: Map<string, Buffer>, refusal?: WechatApiError) {
  const published: OutgoingEvent[] = [];
  const lookedUp: string[] = [];
  const publisher = { publish: async (o: OutgoingEvent) => void published.push(o) };
  const api = {
    getUserInfo: async (_appId: string, openId: string): Promise<UserInfo> => {
      lookedUp.push(openId);
      if (refusal) throw refusal;
      return { subscribe: 1, openid: openId, unionid: 'u1', remark: 'vip', tagid_list: [] };
    },
  };
  const keys = {
    keysByIds: async (ids: Iterable<string>) => new Map([...ids].map((id) => [id, stored.get(id) ?? null])),
  };
  const handle = enricherBehaviour({
    api: api as unknown as WechatApiClient,
    publisher: publisher as unknown as EventPublisher,
    keys: keys as unknown as DataKeyStore,
    logger: silent,
    maxAgeSeconds: 3600,
  }).handler({} as Db);
  const deliver = (event: WechatEvent, erased = false) =>
    handle([{ topic: 't', partition: 0, offset: 0, key: pseudonym, event, erased } as OpenedConsumedEvent]);
  return { published, lookedUp, deliver };
}

const sealedWith = (event: WechatEvent, id = key.id) => ({ ...event, datakeyid: id }) as WechatEvent;
const follow = sealedWith(wechatEvent('wechat.user.subscribed', appId, 'o1', now));
const unfollow = sealedWith(wechatEvent('wechat.user.unsubscribed', appId, 'o1', now));
const erasure = {
  ...wechatEvent('wechat.user.subscribed', appId, 'o1', now),
  type: 'wechat.user.erased',
  data: { appId, requestedAt: now },
} as WechatEvent;
const data = (o: OutgoingEvent) => o.event.data as Record<string, unknown>;

describe('the profile enricher', () => {
  it('seals a profile with the data key of the follow it answers, keyed and filed by pseudonym', async () => {
    const { published, lookedUp, deliver } = enricher(new Map([[key.id, key.key]]));
    await deliver(follow);
    expect(lookedUp).toEqual(['o1']);
    expect(published).toHaveLength(1);
    const [profile] = published;
    expect(profile).toMatchObject({ key: pseudonym, event: { subject: pseudonym, datakeyid: key.id } });
    for (const field of ['openId', 'unionId', 'remark'])
      expect(isSealedValue(data(profile!)[field])).toBe(true);
    expect(openEvent(profile!.event as CloudEvent, key.key).event.data).toMatchObject({
      openId: 'o1',
      unionId: 'u1',
      remark: 'vip',
    });
  });

  it('records a refusal for good as fetch_failed, and leaves a busy WeChat or a refused token to a retry', async () => {
    const refused = enricher(
      new Map([[key.id, key.key]]),
      new WechatApiError('user/info', 40003, 'invalid openid'),
    );
    await refused.deliver(follow);
    expect(refused.published.map((o) => o.event.type)).toEqual(['wechat.profile.fetch_failed']);
    for (const [errcode, errmsg] of [
      [-1, 'system busy'],
      [45009, 'reach max api daily quota limit'],
      [42001, 'access_token expired'],
    ] as const) {
      const passing = enricher(
        new Map([[key.id, key.key]]),
        new WechatApiError('user/info', errcode, errmsg),
      );
      await expect(passing.deliver(follow)).rejects.toMatchObject({ errcode });
      expect(passing.published).toEqual([]);
    }
  });

  it('writes the profile as erased when the follow key is gone by the time it is written', async () => {
    const { published, deliver } = enricher(new Map());
    await deliver(follow);
    expect(published[0]!.event).not.toHaveProperty('datakeyid');
    expect(data(published[0]!)).toMatchObject({ openId: ERASED_VALUE, unionId: ERASED_VALUE });
  });

  it('asks nothing and writes nothing for a follow of an erased user', async () => {
    const { published, lookedUp, deliver } = enricher(new Map());
    await deliver({ ...follow, data: { ...follow.data, openId: '' } } as WechatEvent, true);
    expect(lookedUp).toEqual([]);
    expect(published).toEqual([]);
  });

  it('writes a profile erasure for an unfollow: sealed with its key, or as erased once that is gone', async () => {
    const withKey = enricher(new Map([[key.id, key.key]]));
    await withKey.deliver(unfollow);
    expect(withKey.published[0]).toMatchObject({
      key: pseudonym,
      event: { type: 'wechat.profile.erased', subject: pseudonym, datakeyid: key.id },
    });
    const gone = enricher(new Map());
    await gone.deliver({ ...unfollow, data: { ...unfollow.data, openId: '' } } as WechatEvent, true);
    expect(gone.published[0]!.event).toMatchObject({ type: 'wechat.profile.erased', subject: pseudonym });
    expect(data(gone.published[0]!).openId).toBe(ERASED_VALUE);
  });

  it('writes a profile erasure, as erased, for an erasure request', async () => {
    const { published, deliver } = enricher(new Map([[key.id, key.key]]));
    await deliver(erasure);
    expect(published[0]).toMatchObject({
      key: pseudonym,
      event: { type: 'wechat.profile.erased', subject: pseudonym, causationid: erasure.id },
    });
    expect(published[0]!.event).not.toHaveProperty('datakeyid');
    expect(data(published[0]!)).toMatchObject({ appId, openId: ERASED_VALUE, at: now });
  });
});
