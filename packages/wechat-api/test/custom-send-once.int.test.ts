import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import {
  MAX_ANSWER_BYTES,
  WechatApiClient,
  WechatTransportError,
  type AccessTokenDocument,
} from '@wxp/wechat-api';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

const appId = 'wxsendonce000001';
let mongo: MongoConnection;
let server: Server;
let base: string;
/** How often each API was asked, and how the stand-in answers it. */
const calls = new Map<string, number>();
let answer: 'never' | 'busy' | 'null' | 'redirect' | 'huge' = 'never';

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('send-once')), 'send-once-test');
  server = createServer((request, response) => {
    const api = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.replace('/cgi-bin/', '');
    calls.set(api, (calls.get(api) ?? 0) + 1);
    response.setHeader('content-type', 'application/json');
    if (api === 'stable_token') {
      response.end(JSON.stringify({ access_token: 'TOKEN', expires_in: 7200 }));
    } else if (answer === 'busy' && (calls.get(api) ?? 0) < 3) {
      response.end(JSON.stringify({ errcode: -1, errmsg: 'system busy' }));
    } else if (answer === 'busy') {
      response.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    } else if (answer === 'null') {
      response.end('null');
    } else if (answer === 'redirect') {
      // To where the appSecret must never go: the same stand-in, under a path it counts apart.
      response.statusCode = 307;
      response.setHeader('location', `${base}/elsewhere/cgi-bin/stable_token`);
      response.end();
    } else if (answer === 'huge') {
      response.end(JSON.stringify({ errcode: 0, tags: 'x'.repeat(MAX_ANSWER_BYTES) }));
    }
    // 'never': WeChat took the request and its answer is lost; the caller's timeout ends it.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await mongo?.close();
});

beforeEach(() => calls.clear());

function client(timeoutMs = 150, deadlineMs = 5_000): WechatApiClient {
  return new WechatApiClient({
    baseUrl: base,
    secretOf: () => 'the-app-secret-0123456789abcdef',
    tokenCollection: mongo.db.collection<AccessTokenDocument>(uniqueName('tokens')),
    timeoutMs,
    retry: { deadlineMs, baseDelayMs: 5, maxDelayMs: 20 },
  });
}

const text = { msgtype: 'text', text: { content: 'hello' } };

describe('a message to a user', () => {
  it('is not sent again when WeChat may have taken it and its answer was lost', async () => {
    answer = 'never';
    await expect(client().sendCustomMessage(appId, 'o-user', text)).rejects.toBeInstanceOf(
      WechatTransportError,
    );
    expect(calls.get('message/custom/send')).toBe(1);
  });

  it('is not sent again when WeChat said it was busy, which it may say after sending', async () => {
    answer = 'busy';
    await expect(client().sendCustomMessage(appId, 'o-user', text)).rejects.toMatchObject({ errcode: -1 });
    expect(calls.get('message/custom/send')).toBe(1);
  });

  it('is sent again when no connection could be made at all', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await new WechatApiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      secretOf: () => 's',
      tokenCollection: mongo.db.collection<AccessTokenDocument>(uniqueName('tokens')),
      timeoutMs: 150,
      retry: { deadlineMs: 300, baseDelayMs: 5, maxDelayMs: 20 },
    })
      .sendCustomMessage(appId, 'o-user', text)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatTransportError);
    expect((error as WechatTransportError).mayHaveArrived).toBe(false);
  });
});

describe('an answer the client does not take', () => {
  it('a send answered with something other than a JSON object may have arrived', async () => {
    answer = 'null';
    const error = await client()
      .sendCustomMessage(appId, 'o-user', text)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatTransportError);
    expect((error as WechatTransportError).mayHaveArrived).toBe(true);
    expect(calls.get('message/custom/send')).toBe(1);
  });

  it('a redirect is not followed, so nothing goes anywhere but the base', async () => {
    answer = 'redirect';
    await expect(client().sendCustomMessage(appId, 'o-user', text)).rejects.toBeInstanceOf(
      WechatTransportError,
    );
    expect([...calls.keys()].some((api) => api.includes('elsewhere'))).toBe(false);
  });

  it('an answer longer than any WeChat gives is refused without being held whole', async () => {
    answer = 'huge';
    const error = await client(2_000, 300)
      .getTags(appId)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatTransportError);
    expect((error as Error).message).toContain(`over ${MAX_ANSWER_BYTES} bytes`);
  });
});

describe('a read', () => {
  it('is asked again after a lost answer, since asking twice changes nothing', async () => {
    answer = 'never';
    await expect(client(100, 600).getUserInfo(appId, 'o-user')).rejects.toBeInstanceOf(WechatTransportError);
    expect(calls.get('user/info')).toBeGreaterThan(1);
  });
});
