import Router from '@koa/router';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import pino from 'pino';
import {
  HttpError,
  errorMapper,
  healthRoutes,
  startHttpServer,
  type RunningServer,
} from '@wxp/service-runtime';
import { Registry } from 'prom-client';

let server: RunningServer;
let base: string;

beforeAll(async () => {
  const app = new Koa();
  app.use(errorMapper(pino({ level: 'silent' })));
  app.use(healthRoutes(new Registry()).routes());
  app.use(koaBody({ json: true, jsonLimit: '1kb' }));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  server = await startHttpServer(app, 0);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => server?.close(100));

describe('refusals that come from a library rather than our own code', () => {
  it('tell the status, never what was sent', async () => {
    const response = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a": ATTACKER-TEXT-7f3e}',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('ATTACKER-TEXT');
    expect(JSON.parse(text)).toEqual({ error: 'bad_request', message: 'Bad Request' });
  });
});

describe('health and metrics routes', () => {
  it('answer their exact paths only', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    for (const path of ['/HEALTHZ', '/healthz/', '/Metrics', '/metrics/']) {
      const body = await (await fetch(`${base}${path}`)).text();
      expect(body).toBe('{"ok":true}');
    }
  });
});

describe('a request that failed on our side', () => {
  it('is logged with the route that matched, never the path as sent', async () => {
    const lines: string[] = [];
    const app = new Koa();
    app.use(errorMapper(pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })));
    const router = new Router();
    router.get('/users/:openId', () => {
      throw new HttpError(503, 'not_announced', 'ask again', true);
    });
    router.get('/scenes/:scene', () => {
      throw new Error('the store went away');
    });
    app.use(router.routes());
    const failing = await startHttpServer(app, 0);
    try {
      const origin = `http://127.0.0.1:${failing.port}`;
      expect((await fetch(`${origin}/users/oSECRET-openid-42`)).status).toBe(503);
      expect((await fetch(`${origin}/scenes/%3Cb%3Eattacker`)).status).toBe(500);
      expect((await fetch(`${origin}/nowhere/oSECRET-openid-42`)).status).toBe(404);
    } finally {
      await failing.close(100);
    }
    const logged = lines.join('');
    expect(logged).not.toContain('oSECRET');
    expect(logged).not.toContain('attacker');
    expect(lines.map((line) => (JSON.parse(line) as { route: unknown }).route)).toEqual([
      '/users/:openId',
      '/scenes/:scene',
    ]);
  });
});
