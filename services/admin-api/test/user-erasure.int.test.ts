import { ReadModels, Topics, derivedEventId } from '@wxp/contracts';
import { DATA_KEYS_COLLECTION } from '@wxp/privacy';
import * as ops from '../src/api-operations';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import { documented } from '../../../test/support/openapi-conformance';
import { testOpener, testPseudonymOf } from '../../../test/support/privacy';
import { startCampaignStack, type CampaignStack } from '../../../test/support/running-campaign-stack';
import { TopicReader, type ReadEvent } from '../../../test/support/topic-reader';

let stack: CampaignStack;
let reader: TopicReader;
let appId: string;

beforeAll(async () => {
  stack = await startCampaignStack();
  appId = stack.account.appId;
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(stack.mongo.db) });
});

afterAll(async () => {
  await reader?.stop();
  await stack?.close();
});

const api = (method: string, path: string, token?: string) =>
  stack.admin.request(method, path, undefined, token);
const keysOf = (pseudonym: string) =>
  stack.mongo.db.collection(DATA_KEYS_COLLECTION).countDocuments({ user: pseudonym });
const erasedEvents = (pseudonym: string): ReadEvent[] =>
  reader.of(appId).filter((e) => e.event.type === 'wechat.user.erased' && e.key === pseudonym);

describe('erasure requests (DELETE /api/apps/{appId}/users/{openId})', () => {
  it('destroy the user’s keys, announce it by pseudonym only, and the follower stays counted without an openId', async () => {
    const { openId } = await stack.simulate(uniqueName('erin'), { action: 'follow' });
    await stack.simulate(uniqueName('other'), { action: 'follow' });
    const pseudonym = testPseudonymOf(appId, openId);
    await eventually(async () => {
      const found = await documented(
        await api('GET', `/api/apps/${appId}/subscribers/${openId}`),
        ops.getSubscriber,
      );
      expect(found).toMatchObject({ openId, subscribed: true });
    }, 15_000);
    const counted = async () =>
      (await documented(await api('GET', `/api/apps/${appId}/follower-stats`), ops.followerStats)).followers;
    const followersBefore = await counted();
    expect(await keysOf(pseudonym)).toBe(1);

    // Refused requests erase nothing.
    const path = `/api/apps/${appId}/users/${openId}`;
    for (const unauthenticated of [
      await fetch(`${stack.adminUrl}${path}`, { method: 'DELETE' }),
      await api('DELETE', path, 'wrong-token'),
    ]) {
      expect(unauthenticated.status).toBe(401);
      await documented(unauthenticated, ops.eraseUser);
    }
    const unknownApp = await api('DELETE', `/api/apps/wxnobody/users/${openId}`);
    expect(unknownApp.status).toBe(404);
    expect(await documented(unknownApp, ops.eraseUser)).toMatchObject({ error: 'unknown_app' });
    expect(await keysOf(pseudonym)).toBe(1);

    const started = Math.floor(Date.now() / 1000);
    const accepted = await api('DELETE', path);
    expect(accepted.status).toBe(202);
    const text = await accepted.clone().text();
    expect(await documented(accepted, ops.eraseUser)).toEqual({ status: 'erasure accepted' });
    expect(text).not.toContain(openId);
    expect(await keysOf(pseudonym)).toBe(0);

    const [announced] = await eventually(async () => {
      const found = erasedEvents(pseudonym);
      expect(found).toHaveLength(1);
      return found;
    }, 15_000);
    const asStored = JSON.stringify({
      key: announced!.key,
      headers: announced!.headers,
      value: announced!.stored,
    });
    expect(asStored).not.toContain(openId);
    expect(announced!.stored).toMatchObject({
      type: 'wechat.user.erased',
      subject: pseudonym,
      source: `/wechat/${appId}`,
      dataschema: 'urn:wxp:schema:wechat.user.erased:v1',
      data: { appId, requestedAt: expect.any(Number) },
    });
    const { requestedAt } = announced!.stored.data as { requestedAt: number };
    expect(requestedAt).toBeGreaterThanOrEqual(started);
    expect(announced!.stored.id).toBe(derivedEventId('wechat.user.erased', `${pseudonym}:${requestedAt}`));
    expect(Object.keys(announced!.stored.data).sort()).toEqual(['appId', 'requestedAt']);
    // The follow on the topic now reads as erased, wherever a copy of it is.
    const follow = reader
      .of(appId)
      .find((e) => e.key === pseudonym && e.event.type === 'wechat.user.subscribed');
    expect(follow).toBeDefined();
    expect((await testOpener(stack.mongo.db).open([follow!.stored as never]))[0]).toMatchObject({
      erased: true,
      event: { data: { openId: '' } },
    });

    // The projection drops the openId when it reads the erasure, and keeps counting the follower.
    await eventually(async () => {
      const gone = await api('GET', `/api/apps/${appId}/subscribers/${openId}`);
      expect(gone.status).toBe(404);
      await documented(gone, ops.getSubscriber);
    }, 15_000);
    const stored = await stack.mongo.db
      .collection(ReadModels.subscribers)
      .findOne({ _id: pseudonym as never });
    expect(stored).toMatchObject({ state: 'following' });
    expect(JSON.stringify(stored)).not.toContain(openId);
    expect(await counted()).toBe(followersBefore);
    const listed = await documented<{ total: number; subscribers: { openId?: string }[] }>(
      await api('GET', `/api/apps/${appId}/subscribers?pageSize=200`),
      ops.listSubscribers,
    );
    expect(listed.total).toBe(2);
    expect(listed.subscribers.filter((s) => s.openId === undefined)).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(openId);

    // Asking again is harmless.
    expect((await api('DELETE', path)).status).toBe(202);
  }, 60_000);

  it.each([
    ['too long', 'o'.repeat(65)],
    ['a space', 'o%20pen'],
    ['a dot-dot', 'o..%2F..'],
    ['markup', '%3Cscript%3E'],
    ['a non-ASCII letter', '%C3%B6pen'],
    ['a NUL', 'o%00'],
  ])('refuse an openId with %s: 400, nothing repeated, nothing erased', async (_what, openId) => {
    const before = await stack.mongo.db.collection(DATA_KEYS_COLLECTION).countDocuments();
    const refused = await api('DELETE', `/api/apps/${appId}/users/${openId}`);
    expect(refused.status).toBe(400);
    const body = await documented<{ error: string; message: string }>(refused, ops.eraseUser);
    expect(body.message).toContain('path.openId');
    expect(body.message).not.toContain(decodeURIComponent(openId));
    expect(await stack.mongo.db.collection(DATA_KEYS_COLLECTION).countDocuments()).toBe(before);
  });
});
