import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { testAccount } from '../../../test/support/wechat-push';

const account = testAccount({ encryptMode: 'plain' });
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator([account]);
});
afterAll(() => emulator.close());

const tokenBody = JSON.stringify({
  grant_type: 'client_credential',
  appid: account.appId,
  secret: account.appSecret,
});

async function post(path: string, body: string, contentType?: string): Promise<Response> {
  return fetch(`${emulator.baseUrl}${path}`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body,
  });
}

describe('the WeChat emulator reads only JSON bodies', () => {
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'text/xml', 'multipart/form-data; boundary=x'])(
    'refuses a %s body with 415, whatever it holds',
    async (type) => {
      for (const path of ['/cgi-bin/stable_token', '/emulator/faults', '/emulator/reset']) {
        const response = await post(path, tokenBody, type);
        expect(response.status).toBe(415);
        const text = await response.text();
        expect(text).not.toContain(account.appSecret);
      }
      expect((await emulator.state(account.appId)).tokenRequests).toBe(0);
    },
  );

  it('refuses a body that declares no type', async () => {
    const response = await fetch(`${emulator.baseUrl}/cgi-bin/stable_token`, {
      method: 'POST',
      body: new Blob([tokenBody]),
    });
    expect(response.status).toBe(415);
  });

  it('answers a JSON body, and refuses JSON that does not parse without quoting it', async () => {
    const ok = await post('/cgi-bin/stable_token', tokenBody, 'application/json; charset=utf-8');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { access_token?: string }).access_token).toBeDefined();
    const bad = await post('/cgi-bin/stable_token', '{"secret": "QUOTE-ME', 'application/json');
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('QUOTE-ME');
  });
});

describe('the emulator refuses a fault it cannot carry out, with a 400 that names the field', () => {
  it.each([
    [{ api: 'message/custom/send' }, 'errcode'],
    [{ errcode: -1, afterDoing: 'yes' }, 'afterDoing'],
    [{ afterDoing: true, stallMs: 0 }, 'stallMs'],
    [{ afterDoing: true, stallMs: 60_001 }, 'stallMs'],
    [{ afterDoing: true, stallMs: 1.5 }, 'stallMs'],
    [{ errcode: -1, stallMs: 100 }, 'stallMs'],
  ])('%j', async (fault, field) => {
    const response = await post(
      '/emulator/faults',
      JSON.stringify({ appId: account.appId, ...fault }),
      'application/json',
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(field);
    expect((await emulator.state(account.appId)) as unknown as { faults: unknown[] }).toMatchObject({
      faults: [],
    });
  });
});

describe('the emulator answers hostile control and API requests with a 4xx, and changes nothing then', () => {
  it.each([
    ['/emulator/users', { users: 5 }],
    ['/emulator/users', { users: 'abc' }],
    ['/emulator/users', { users: [{ name: 'hostile-a', tags: 'xx' }] }],
    ['/emulator/simulate', { user: 'hostile-b', action: 'text' }],
    ['/emulator/simulate', { user: 'hostile-b', action: 'text', content: { a: 1 } }],
    ['/emulator/simulate', { user: 'hostile-b', action: 'click', key: 'k'.repeat(3000) }],
  ])('%s %j', async (path, body) => {
    const response = await post(path, JSON.stringify({ appId: account.appId, ...body }), 'application/json');
    expect(response.status).toBe(400);
    const state = await emulator.state(account.appId);
    expect(state.users.filter((u) => /^hostile/.test(String((u as { name?: unknown }).name)))).toEqual([]);
  });

  it('answers a batch look-up of something that is not a user with an errcode', async () => {
    const token = (await (await post('/cgi-bin/stable_token', tokenBody, 'application/json')).json()) as {
      access_token: string;
    };
    const response = await post(
      `/cgi-bin/user/info/batchget?access_token=${token.access_token}`,
      JSON.stringify({ user_list: [null] }),
      'application/json',
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ errcode: 40003 });
  });
});
