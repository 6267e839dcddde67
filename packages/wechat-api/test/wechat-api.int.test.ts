import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import {
  WechatApiClient,
  WechatApiError,
  WechatValidationError,
  mayHaveBeenCarriedOut,
  renderQrCode,
  type AccessTokenDocument,
} from '@wxp/wechat-api';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { testAccount } from '../../../test/support/wechat-push';

const account = testAccount();
let emulator: RunningEmulator;
let mongo: MongoConnection;
let database: string;

function client(
  options: Partial<ConstructorParameters<typeof WechatApiClient>[0]> = {},
  collection = 'tokens',
) {
  return new WechatApiClient({
    baseUrl: emulator.baseUrl,
    secretOf: (appId) => (appId === account.appId ? account.appSecret : undefined),
    tokenCollection: mongo.db.collection<AccessTokenDocument>(collection),
    showQrCodeBase: `${emulator.baseUrl}/cgi-bin/showqrcode`,
    retry: { deadlineMs: 3000, baseDelayMs: 10, maxDelayMs: 100 },
    ...options,
  });
}

beforeAll(async () => {
  emulator = await startEmulator([account], { tokenOverlapSeconds: 0 });
  database = uniqueName('wechat-api');
  mongo = await connectMongo(mongoUrlFor(database), 'wechat-api-test');
});

afterAll(async () => {
  await emulator?.close();
  await mongo?.close();
});

beforeEach(async () => {
  await emulator.control('reset', {});
  await mongo.db.collection('tokens').deleteMany({});
  await mongo.db.collection('tokens_leases').deleteMany({});
});

describe('WeChat API client against the emulator', () => {
  it('refuses a wrong secret with the typed error WeChat gives', async () => {
    const wrong = client({ secretOf: () => 'not-the-secret' });
    await expect(wrong.getFollowers(account.appId)).rejects.toMatchObject({ errcode: 40125 });
    await expect(client({ secretOf: () => undefined }).getFollowers(account.appId)).rejects.toBeInstanceOf(
      WechatValidationError,
    );
  });

  it('creates all four kinds of QR code, whose images WeChat and our renderer both serve', async () => {
    const api = client();
    const temporary = await api.createQrCode(account.appId, {
      kind: 'temporary',
      scene: 4294967295,
      expireSeconds: 3600,
    });
    expect(temporary).toMatchObject({ expireSeconds: 3600 });
    expect(temporary.imageUrl).toBe(
      `${emulator.baseUrl}/cgi-bin/showqrcode?ticket=${encodeURIComponent(temporary.ticket)}`,
    );
    const image = await fetch(temporary.imageUrl);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await image.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect((await fetch(`${emulator.baseUrl}/cgi-bin/showqrcode?ticket=nope`)).status).toBe(404);

    const defaultExpiry = await api.createQrCode(account.appId, { kind: 'temporary', scene: 'spring' });
    expect(defaultExpiry.expireSeconds).toBe(60);
    const permanent = await api.createQrCode(account.appId, { kind: 'permanent', scene: 7 });
    expect(permanent).not.toHaveProperty('expireSeconds');
    await api.createQrCode(account.appId, { kind: 'permanent', scene: 'store-12' });
    const state = await emulator.state(account.appId);
    expect(state.qrcodes.map((q) => q.sceneId ?? q.sceneStr)).toEqual([4294967295, 'spring', 7, 'store-12']);

    const png = (await renderQrCode(permanent.url, 'png')) as Buffer;
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await renderQrCode(permanent.url, 'svg')).toMatch(/^<svg/);
    await expect(
      api.createQrCode(account.appId, { kind: 'permanent', scene: 100001 }),
    ).rejects.toBeInstanceOf(WechatValidationError);
    expect((await emulator.state(account.appId)).qrcodes).toHaveLength(4);
  });

  it('publishes, reads and deletes the menu', async () => {
    const api = client();
    await expect(api.getMenu(account.appId)).rejects.toMatchObject({ errcode: 46003 });
    await api.createMenu(account.appId, {
      button: [{ type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' }],
    });
    expect(await api.getMenu(account.appId)).toEqual({
      menu: { button: [{ type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC', sub_button: [] }] },
    });
    await expect(api.createMenu(account.appId, { button: [{ type: 'view', name: 'x' }] })).rejects.toThrow(
      'button[0].url is required for type view',
    );
    await api.deleteMenu(account.appId);
    await expect(api.getMenu(account.appId)).rejects.toMatchObject({ errcode: 46003 });
  });

  it('reads users one at a time, in batches of at most 100, and as a follower list', async () => {
    const api = client();
    const created = await emulator.control('users', {
      appId: account.appId,
      users: [
        { name: 'alice', tags: [2] },
        { name: 'bob', unionId: null },
      ],
    });
    const [alice, bob] = created.body.users as { openId: string }[];
    expect(await api.getUserInfo(account.appId, alice!.openId)).toMatchObject({
      subscribe: 1,
      tagid_list: [2],
    });
    expect(await api.getUserInfo(account.appId, bob!.openId)).not.toHaveProperty('unionid');
    const batch = await api.batchGetUserInfo(account.appId, [alice!.openId, bob!.openId]);
    expect(batch.map((u) => u.openid)).toEqual([alice!.openId, bob!.openId]);
    await expect(
      api.batchGetUserInfo(
        account.appId,
        Array.from({ length: 101 }, () => alice!.openId),
      ),
    ).rejects.toBeInstanceOf(WechatValidationError);
    expect((await api.getFollowers(account.appId)).total).toBe(2);
    await expect(api.getUserInfo(account.appId, 'oNobody')).rejects.toMatchObject({ errcode: 40003 });
  });

  it('finds or makes user tags, tags users and reads the tags back', async () => {
    const api = client();
    const created = await emulator.control('users', { appId: account.appId, users: [{ name: 'tagged' }] });
    const [user] = created.body.users as { openId: string }[];
    const vip = await api.findOrCreateTag(account.appId, 'vip');
    expect(vip.id).toBeGreaterThanOrEqual(100);
    expect(await api.findOrCreateTag(account.appId, 'vip')).toMatchObject({ id: vip.id });
    await expect(api.createTag(account.appId, 'vip')).rejects.toMatchObject({ errcode: 45157 });
    await api.tagUsers(account.appId, vip.id, [user!.openId]);
    await api.tagUsers(account.appId, vip.id, [user!.openId]);
    expect((await api.getUserInfo(account.appId, user!.openId)).tagid_list).toEqual([vip.id]);
    expect(await api.getTags(account.appId)).toEqual([{ id: vip.id, name: 'vip', count: 1 }]);

    // A create WeChat carried out but whose answer said busy: the tag is found, not made again.
    await emulator.control('faults', {
      appId: account.appId,
      api: 'tags/create',
      errcode: -1,
      afterDoing: true,
    });
    const lost = await api.findOrCreateTag(account.appId, 'lost answer');
    expect((await api.getTags(account.appId)).filter((t) => t.name === 'lost answer')).toEqual([
      { id: lost.id, name: 'lost answer', count: 0 },
    ]);

    await expect(api.tagUsers(account.appId, 9999, [user!.openId])).rejects.toMatchObject({ errcode: 45159 });
    await expect(api.tagUsers(account.appId, vip.id, ['oNobody'])).rejects.toMatchObject({ errcode: 40003 });
    await expect(
      api.tagUsers(
        account.appId,
        vip.id,
        Array.from({ length: 51 }, () => user!.openId),
      ),
    ).rejects.toBeInstanceOf(WechatValidationError);
    await expect(api.findOrCreateTag(account.appId, 'x'.repeat(31))).rejects.toBeInstanceOf(
      WechatValidationError,
    );
    await emulator.control('faults', {
      appId: account.appId,
      api: 'tags/members/batchtagging',
      errcode: 45059,
    });
    await expect(api.tagUsers(account.appId, vip.id, [user!.openId])).rejects.toMatchObject({
      errcode: 45059,
    });
  });

  it('sends customer-service messages, which the emulator logs', async () => {
    const api = client();
    const created = await emulator.control('users', { appId: account.appId, users: [{ name: 'carol' }] });
    const [carol] = created.body.users as { openId: string }[];
    await api.sendCustomMessage(account.appId, carol!.openId, { msgtype: 'text', text: { content: '欢迎' } });
    expect((await emulator.state(account.appId)).messages).toEqual([
      expect.objectContaining({
        touser: carol!.openId,
        msgtype: 'text',
        message: { msgtype: 'text', text: { content: '欢迎' } },
      }),
    ]);
  });

  it('retries transient errors and not permanent ones', async () => {
    const api = client();
    await emulator.control('users', { appId: account.appId, users: [{ name: 'dave' }] });
    await emulator.control('faults', { appId: account.appId, api: 'user/get', errcode: -1, times: 2 });
    expect((await api.getFollowers(account.appId)).total).toBe(1);
    await emulator.control('faults', { appId: account.appId, api: 'user/get', errcode: 48001, times: 2 });
    await expect(api.getFollowers(account.appId)).rejects.toBeInstanceOf(WechatApiError);
    expect((await emulator.state(account.appId)) as unknown as { faults: unknown[] }).toMatchObject({
      faults: [{ api: 'user/get', errcode: 48001, remaining: 1 }],
    });
  });

  describe('a call that must not happen twice, when WeChat did it and its answer went wrong', () => {
    const hasty = () =>
      client({ timeoutMs: 300, retry: { deadlineMs: 3000, baseDelayMs: 10, maxDelayMs: 50 } });
    const afterDoing = (api: string, fault: { errcode?: number; stallMs?: number }) =>
      emulator.control('faults', { appId: account.appId, api, afterDoing: true, ...fault });

    it.each([
      ['its answer never came', { stallMs: 1500 }],
      ['it answered "system busy"', { errcode: -1 }],
    ])('sends a message once: %s', async (_case, fault) => {
      const created = await emulator.control('users', { appId: account.appId, users: [{ name: 'frank' }] });
      const [frank] = created.body.users as { openId: string }[];
      await afterDoing('message/custom/send', fault);
      const error = await hasty()
        .sendCustomMessage(account.appId, frank!.openId, { msgtype: 'text', text: { content: 'once' } })
        .catch((e: unknown) => e);
      expect(mayHaveBeenCarriedOut(error)).toBe(true);
      // Past the stalled answer: a repeated call would have been logged by now.
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect((await emulator.state(account.appId)).messages).toHaveLength(1);
    });

    it.each([
      ['its answer never came', { stallMs: 1500 }],
      ['it answered "system busy"', { errcode: -1 }],
    ])('makes a QR code once: %s', async (_case, fault) => {
      await afterDoing('qrcode/create', fault);
      const error = await hasty()
        .createQrCode(account.appId, { kind: 'permanent', scene: 'once-only' })
        .catch((e: unknown) => e);
      expect(mayHaveBeenCarriedOut(error)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect((await emulator.state(account.appId)).qrcodes).toHaveLength(1);
    });

    it('repeats what provably did nothing: a refusal on the per-minute quota', async () => {
      const created = await emulator.control('users', { appId: account.appId, users: [{ name: 'gina' }] });
      const [gina] = created.body.users as { openId: string }[];
      await emulator.control('faults', { appId: account.appId, api: 'message/custom/send', errcode: 45011 });
      await hasty().sendCustomMessage(account.appId, gina!.openId, {
        msgtype: 'text',
        text: { content: 'hi' },
      });
      expect((await emulator.state(account.appId)).messages).toHaveLength(1);
    });
  });

  it('replaces a token WeChat refused, once, and retries the call once', async () => {
    const api = client({ tokenMethod: 'token' });
    await emulator.control('users', { appId: account.appId, users: [{ name: 'erin' }] });
    await api.getFollowers(account.appId);
    // Someone else fetches a token: with no overlap, ours answers 40001 from now on.
    await client({ tokenMethod: 'token' }, uniqueName('elsewhere')).fetchAccessToken(account.appId);
    expect((await api.getFollowers(account.appId)).total).toBe(1);
    expect((await emulator.state(account.appId)).tokenRequests).toBe(3);
  });

  it('shares one token across processes: 1,000 concurrent calls from 4 processes make one token request', async () => {
    await emulator.control('users', { appId: account.appId, users: [{ name: 'frank' }] });
    const script = join(__dirname, 'shared-token-worker.cjs');
    const runs = Array.from(
      { length: 4 },
      () =>
        new Promise<string>((resolve, reject) => {
          const worker = spawn(process.execPath, [script], {
            env: {
              ...process.env,
              WORKER_BASE_URL: emulator.baseUrl,
              WORKER_MONGO_URL: mongoUrlFor(database),
              WORKER_APP_ID: account.appId,
              WORKER_SECRET: account.appSecret,
              WORKER_CALLS: '250',
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          worker.stdout.on('data', (d) => (out += String(d)));
          // 'close', not 'exit': the output may still be in the pipe when the process has exited.
          worker.once('close', (code) =>
            code === 0 ? resolve(out) : reject(new Error(`worker exited ${code}: ${out}`)),
          );
        }),
    );
    const outputs = await Promise.all(runs);
    expect(outputs.map((o) => o.trim())).toEqual(['250 ok', '250 ok', '250 ok', '250 ok']);
    expect((await emulator.state(account.appId)).tokenRequests).toBe(1);
  });
});
