import { Topics } from '@wxp/contracts';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { closeSharedKeysDb, sharedKeysDb, testOpener, testPseudonymOf } from '../../../test/support/privacy';
import { testAccount } from '../../../test/support/wechat-push';

const plain = testAccount({ encryptMode: 'plain' });
const safe = testAccount({ encryptMode: 'safe' });
const json = testAccount({ encryptMode: 'compat', format: 'json' });

async function get(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('WeChat emulator tokens', () => {
  let emulator: RunningEmulator;
  // The emulator's clock, moved by the tests: expiry is checked without waiting for it.
  let clock = Date.now();
  beforeAll(async () => {
    emulator = await startEmulator([plain], {
      tokenTtlSeconds: 7200,
      tokenOverlapSeconds: 300,
      now: () => clock,
    });
  });
  afterAll(() => emulator.close());

  const token = () =>
    get(
      `${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${plain.appId}&secret=${plain.appSecret}`,
    );
  const followers = (accessToken: unknown) =>
    get(`${emulator.baseUrl}/cgi-bin/user/get?access_token=${String(accessToken)}`);

  it('checks appId and secret', async () => {
    expect(
      await get(`${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=wxnobody&secret=x`),
    ).toMatchObject({
      errcode: 40013,
    });
    expect(
      await get(
        `${emulator.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${plain.appId}&secret=wrong`,
      ),
    ).toMatchObject({ errcode: 40125 });
    expect(await get(`${emulator.baseUrl}/cgi-bin/user/get`)).toMatchObject({ errcode: 41001 });
  });

  it('keeps a replaced token working only for the overlap, and expires tokens', async () => {
    const first = await token();
    expect(first).toMatchObject({ expires_in: 7200 });
    expect(await followers(first.access_token)).toMatchObject({ total: 0 });
    clock += 3_600_000;
    const second = await token();
    expect(second.access_token).not.toBe(first.access_token);
    clock += 299_000;
    expect(await followers(first.access_token)).toMatchObject({ total: 0 });
    clock += 2000;
    expect(await followers(first.access_token)).toMatchObject({ errcode: 40001 });
    expect(await followers(second.access_token)).toMatchObject({ total: 0 });
    clock += 7200_000;
    expect(await followers(second.access_token)).toMatchObject({ errcode: 42001 });
  });

  it('answers stable_token with the same token until it expires, unless forced', async () => {
    const body = { grant_type: 'client_credential', appid: plain.appId, secret: plain.appSecret };
    const a = await post(`${emulator.baseUrl}/cgi-bin/stable_token`, body);
    clock += 7100_000;
    const b = await post(`${emulator.baseUrl}/cgi-bin/stable_token`, body);
    expect(b.access_token).toBe(a.access_token);
    const forced = await post(`${emulator.baseUrl}/cgi-bin/stable_token`, { ...body, force_refresh: true });
    expect(forced.access_token).not.toBe(a.access_token);
    clock += 7201_000;
    const renewed = await post(`${emulator.baseUrl}/cgi-bin/stable_token`, body);
    expect(renewed.access_token).not.toBe(forced.access_token);
  });
});

describe('push simulator against the real gateway', () => {
  let emulator: RunningEmulator;
  let gateway: RunningGateway;
  let reader: TopicReader;
  beforeAll(async () => {
    reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
    gateway = await startGateway([plain, safe, json]);
    emulator = await startEmulator([plain, safe, json], { gatewayUrl: gateway.url });
  });
  afterAll(async () => {
    await emulator?.close();
    await gateway?.close();
    await reader?.stop();
    await closeSharedKeysDb();
  });

  async function qrTicket(appId: string, scene: number | string): Promise<string> {
    const tokenAnswer = await post(`${emulator.baseUrl}/cgi-bin/stable_token`, {
      grant_type: 'client_credential',
      appid: appId,
      secret: [plain, safe, json].find((a) => a.appId === appId)?.appSecret,
    });
    const created = await post(
      `${emulator.baseUrl}/cgi-bin/qrcode/create?access_token=${String(tokenAnswer.access_token)}`,
      {
        expire_seconds: 600,
        action_name: typeof scene === 'number' ? 'QR_SCENE' : 'QR_STR_SCENE',
        action_info: { scene: typeof scene === 'number' ? { scene_id: scene } : { scene_str: scene } },
      },
    );
    return String(created.ticket);
  }

  it.each([
    ['plain', plain],
    ['safe', safe],
    ['compatible JSON', json],
  ])('a user scans, scans again, clicks, writes and unfollows (%s mode)', async (_mode, account) => {
    const ticket = await qrTicket(account.appId, 2024);
    const user = uniqueName('alice');
    const act = async (body: Record<string, unknown>) => {
      const result = await emulator.control('simulate', { appId: account.appId, user, ...body });
      expect(result.body).toMatchObject({ delivered: true });
      return result.body as { openId: string };
    };
    const { openId } = await act({ action: 'scan', ticket });
    await act({ action: 'scan', ticket });
    const noMenu = await emulator.control('simulate', {
      appId: account.appId,
      user,
      action: 'click',
      key: 'V1001',
    });
    expect(noMenu.status).toBe(409);
    await act({ action: 'text', content: '你好' });
    await act({ action: 'unfollow' });

    const subject = testPseudonymOf(account.appId, openId);
    await eventually(async () => {
      const types = reader
        .of(account.appId)
        .filter((e) => e.event.subject === subject)
        .map((e) => e.event.type);
      expect(types).toEqual([
        'wechat.user.subscribed',
        'wechat.qrcode.scanned',
        'wechat.message.received',
        'wechat.user.unsubscribed',
      ]);
    }, 15_000);
    const [subscribed, scanned, written] = reader
      .of(account.appId)
      .filter((e) => e.event.subject === subject);
    expect(subscribed?.event.data).toMatchObject({ openId, scene: '2024', sceneId: 2024, ticket });
    expect(scanned?.event.data).toMatchObject({ openId, scene: '2024', ticket });
    expect(written?.event.data.fields).toMatchObject({ Content: '你好' });
    expect(JSON.stringify(written?.stored)).not.toContain('你好');
    const state = await emulator.state(account.appId);
    expect(state.users.find((u) => u.openId === openId)).toMatchObject({ subscribe: 0, qrScene: 2024 });
  });

  it('retries like WeChat, three tries, when the gateway does not answer', async () => {
    const unreachable = await startEmulator([plain], {
      gatewayUrl: 'http://127.0.0.1:9',
      pushTimeoutMs: 200,
    });
    try {
      const result = await unreachable.control('simulate', {
        appId: plain.appId,
        user: 'bob',
        action: 'follow',
      });
      expect(result.body).toMatchObject({ delivered: false });
      expect((result.body.attempts as unknown[]).length).toBe(3);
    } finally {
      await unreachable.close();
    }
  });
});
