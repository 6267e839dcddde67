import { ReadModels, schemaProblems, type CloudEvent } from '@wxp/contracts';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import {
  createMetricsRegistry,
  startHttpServer,
  withoutMetrics,
  type RunningServer,
} from '@wxp/service-runtime';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import type { AdminWechatApi } from '../src/admin-commands';
import { ErrorBody } from '../src/api-schemas';
import { createAdminApp } from '../src/app';
import type { AuthThrottleOptions } from '../src/auth-throttle';
import { openApiFile } from '../src/openapi-file';
import { problemsAgainst } from '../src/operation';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { testAccount } from '../../../test/support/wechat-push';

/**
 * The admin port as an attacker meets it: every route of the published document under other
 * spellings, the dashboard's folder, the throttle, the headers and what is logged and recorded.
 * WeChat is a stand-in here (no call leaves the process) and events are kept instead of published.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface AccessAdmin {
  server: RunningServer;
  events: CloudEvent[];
  logLines: Record<string, unknown>[];
  logText: string[];
  send(
    method: string,
    path: string,
    options?: { token?: string; from?: string; body?: string; type?: string },
  ): Promise<Answer>;
}

const account = testAccount();
const appId = account.appId;
const adminToken = `admin-${uniqueName('token')}`;
const wechat = {
  createQrCode: async () => ({
    ticket: 'ticket-1',
    url: 'http://weixin.qq.com/q/1',
    imageUrl: 'https://x/1',
  }),
  createMenu: async () => {},
  getMenu: async () => ({ menu: { button: [{ type: 'click', name: 'a', key: 'k' }] } }),
  deleteMenu: async () => {},
} as unknown as AdminWechatApi;

let mongo: MongoConnection;
let dashboardDir: string;
let builtFiles: string[];
const running: RunningServer[] = [];

async function startAccessAdmin(
  authThrottle?: Partial<AuthThrottleOptions>,
  broker: 'up' | 'down' = 'up',
  metrics: 'here' | 'apart' = 'here',
): Promise<AccessAdmin> {
  const events: CloudEvent[] = [];
  const logText: string[] = [];
  const logLines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logText.push(line);
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const app = createAdminApp({
    mongo,
    adminToken,
    privacyKey: `privacy-${uniqueName('key')}`,
    accounts: new Map([[appId, account]]),
    wechat,
    publish: async ({ event }) => {
      if (broker === 'down') throw new Error('KafkaJSNumberOfRetriesExceeded: broker not reachable');
      events.push(event);
    },
    logger,
    metrics: createMetricsRegistry('admin-api'),
    dashboardDir,
    ...(authThrottle === undefined ? {} : { authThrottle }),
  });
  // As runHttpService serves it when ADMIN_METRICS_PORT is set.
  const server = await startHttpServer(metrics === 'apart' ? withoutMetrics(app) : app, 0);
  running.push(server);
  // Raw requests: the path goes on the wire exactly as written, never normalised by a URL parser.
  const send: AccessAdmin['send'] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method,
          path,
          headers,
          ...(options.from === undefined ? {} : { localAddress: options.from }),
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(options.body);
    });
  return { server, events, logLines, logText, send };
}

const errorOf = (answer: Answer): { error: string; message: string } => {
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: string; message: string };
  expect(problemsAgainst(ErrorBody, body)).toEqual([]);
  return body;
};

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('admin-access')), 'admin-access-test');
  // The dashboard as the production build makes it, in a folder of this test's own.
  dashboardDir = mkdtempSync(join(tmpdir(), 'admin-dashboard-'));
  const build = spawnSync(process.execPath, [join(__dirname, '..', 'dashboard', 'build.cjs'), dashboardDir], {
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`dashboard build failed: ${build.stderr}`);
  builtFiles = readdirSync(dashboardDir, { recursive: true }).map(String);
  // What a careless deployment might leave beside the page: none of it may ever be served.
  writeFileSync(join(dashboardDir, 'app.js.map'), '{"version":3,"sources":["secret-source.ts"]}');
  writeFileSync(join(dashboardDir, 'notes.txt'), 'STATIC-NOTES');
  mkdirSync(join(dashboardDir, 'API'));
  writeFileSync(join(dashboardDir, 'API', 'apps'), 'STATIC-APPS');
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((server) => server.close()));
  await mongo?.close();
  if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
});

describe('the admin port without the token', () => {
  let admin: AccessAdmin;
  // These tests make hundreds of failed attempts from one address on purpose.
  beforeAll(async () => {
    admin = await startAccessAdmin({ maxFailures: 1_000_000 });
  });

  const documentedRoutes = () => {
    const document = parse(readFileSync(openApiFile, 'utf8')) as { paths: Record<string, object> };
    return Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.keys(methods).map((method) => ({
        method: method.toUpperCase(),
        path: template.replace('{appId}', appId).replace('{scene}', '1').replace('{openId}', 'o1'),
      })),
    );
  };

  it('walks every route of docs/openapi.yaml under other spellings: 401 without the token, 404 with it', async () => {
    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const { method, path } of routes) {
      const below = path.slice('/api'.length);
      const spellings = [
        ...['/API', '/Api', '/aPi', '//api', '/%61pi', '/%41PI', '/api/'].map(
          (prefix) => `${prefix}${below}`,
        ),
        `/api${below.toUpperCase()}`,
        `/api${below}/`,
      ];
      for (const spelling of spellings) {
        for (const verb of new Set([method, 'GET', 'HEAD'])) {
          for (const token of [undefined, 'wrong-token']) {
            const refused = await admin.send(verb, spelling, token === undefined ? {} : { token });
            expect([verb, spelling, token, refused.status]).toEqual([verb, spelling, token, 401]);
            expect(refused.headers['www-authenticate']).toBe('Bearer');
            if (verb !== 'HEAD') expect(errorOf(refused).error).toBe('unauthorized');
          }
          const unknown = await admin.send(verb, spelling, { token: adminToken });
          expect([verb, spelling, unknown.status]).toEqual([verb, spelling, 404]);
          if (verb !== 'HEAD') expect(errorOf(unknown).error).toBe('not_found');
        }
      }
      for (const verb of new Set([method, 'HEAD', 'OPTIONS'])) {
        const refused = await admin.send(verb, path);
        expect([verb, path, refused.status]).toEqual([verb, path, 401]);
      }
    }
  });

  it('serves only its public paths, exactly spelt: the dashboard, health, metrics and the documents', async () => {
    for (const path of [
      '/',
      '/index.html',
      '/app.js',
      '/styles.css',
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/openapi.yaml',
    ]) {
      for (const verb of ['GET', 'HEAD']) {
        const answer = await admin.send(verb, path);
        expect([verb, path, answer.status]).toEqual([verb, path, 200]);
      }
    }
    for (const [verb, path] of [
      ['GET', '/HEALTHZ'],
      ['GET', '/healthz/'],
      ['GET', '/Metrics'],
      ['GET', '/OPENAPI.JSON'],
      ['GET', '/App.js'],
      ['GET', '/%61pp.js'],
      ['GET', '/index.HTML'],
      ['GET', '//'],
      ['POST', '/healthz'],
      ['DELETE', '/'],
      ['PUT', '/app.js'],
    ]) {
      const answer = await admin.send(verb as string, path as string);
      expect([verb, path, answer.status]).toEqual([verb, path, 401]);
    }
  });

  it('never lets the dashboard’s folder answer for another path, with or without the token', async () => {
    for (const path of [
      '/API/apps',
      '/app.js.map',
      '/notes.txt',
      '/API/apps/',
      '/%2e%2e/package.json',
      '//api/apps',
    ]) {
      const refused = await admin.send('GET', path);
      expect([path, refused.status]).toEqual([path, 401]);
      const unknown = await admin.send('GET', path, { token: adminToken });
      expect([path, unknown.status]).toEqual([path, 404]);
      expect(errorOf(unknown).error).toBe('not_found');
      expect(unknown.text).not.toMatch(/STATIC|secret-source/);
    }
  });
});

describe('the admin port with the token', () => {
  let admin: AccessAdmin;
  beforeAll(async () => {
    admin = await startAccessAdmin();
  });

  it('answers a route it does not have with a JSON 404 and a method a route does not take with a JSON 405', async () => {
    for (const path of ['/nothing', '/API/nothing', '/api/nothing', `/api/apps/${appId}/unknown`, '/api']) {
      const answer = await admin.send('GET', path, { token: adminToken });
      expect([path, answer.status]).toEqual([path, 404]);
      expect(errorOf(answer).error).toBe('not_found');
    }
    for (const verb of ['POST', 'PATCH', 'PROPFIND']) {
      const answer = await admin.send(verb, '/api/apps', { token: adminToken });
      expect([verb, answer.status]).toEqual([verb, 405]);
      expect(errorOf(answer).error).toBe('method_not_allowed');
      expect(answer.headers.allow).toContain('GET');
    }
  });

  it('answers a malformed body with a JSON 400 that does not repeat it, and an oversized one with a 413', async () => {
    const malformed = await admin.send('PUT', `/api/apps/${appId}/replies`, {
      token: adminToken,
      body: '{"menu": ECHO-THIS-BACK}',
    });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed)).toEqual({ error: 'bad_request', message: 'the body is not valid JSON' });
    const huge = await admin.send('PUT', `/api/apps/${appId}/replies`, {
      token: adminToken,
      body: JSON.stringify({ menu: { K: { msgtype: 'text', text: { content: 'x'.repeat(300_000) } } } }),
    });
    expect(huge.status).toBe(413);
    expect(errorOf(huge).message).toBe('the body is larger than 256 kb');
  });

  it('marks every /api answer no-store and nosniff, the QR image and the errors included', async () => {
    await mongo.db.collection(ReadModels.campaigns).insertOne({
      appId,
      scene: '7',
      kind: 'permanent',
      ticket: 'ticket-7',
      url: 'http://weixin.qq.com/q/7',
      firstCreatedAt: new Date(),
      createdAt: new Date(),
    });
    const answers = [
      await admin.send('GET', '/api/apps', { token: adminToken }),
      await admin.send('GET', `/api/apps/${appId}/qrcodes/7/image?format=svg`, { token: adminToken }),
      await admin.send('GET', '/api/apps'),
      await admin.send('GET', '/api/apps/not%20an%20app/menu', { token: adminToken }),
      await admin.send('GET', '/api/nothing', { token: adminToken }),
      await admin.send('POST', '/api/apps', { token: adminToken }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 400, 404, 405]);
    for (const answer of answers) {
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('logs every request with its route pattern, status and duration, never the token or the ids sent', async () => {
    admin.logLines.length = 0;
    await admin.send('GET', `/api/apps/${appId}/subscribers/o-private-id`, { token: adminToken });
    await admin.send('GET', '/api/apps/o-sent-by-an-attacker', { token: 'a-guessed-token' });
    await admin.send('GET', '/healthz');
    const requests = admin.logLines.filter((line) => line.msg === 'admin request');
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        route: '/api/apps/:appId/subscribers/:openId',
        status: 404,
        durationMs: expect.any(Number),
        remote: '127.0.0.1',
        actor: 'admin-token',
      }),
      expect.objectContaining({ method: 'GET', route: null, status: 401, durationMs: expect.any(Number) }),
      expect.objectContaining({ method: 'GET', route: '/healthz', status: 200 }),
    ]);
    expect(requests[1]).not.toHaveProperty('actor');
    const logged = admin.logText.join('');
    for (const secret of [adminToken, 'a-guessed-token', 'o-private-id', 'o-sent-by-an-attacker'])
      expect(logged).not.toContain(secret);
  });

  it('records which credential issued each command on its event, by name only', async () => {
    admin.events.length = 0;
    const answers = [
      await admin.send('PUT', `/api/apps/${appId}/replies`, {
        token: adminToken,
        body: JSON.stringify({ welcome: { default: { msgtype: 'text', text: { content: 'hi' } } } }),
      }),
      await admin.send('POST', `/api/apps/${appId}/qrcodes`, {
        token: adminToken,
        body: JSON.stringify({ kind: 'permanent', scene: 'poster' }),
      }),
      await admin.send('PUT', `/api/apps/${appId}/menu`, {
        token: adminToken,
        body: JSON.stringify({ button: [{ type: 'click', name: 'a', key: 'k' }] }),
      }),
      await admin.send('DELETE', `/api/apps/${appId}/menu`, { token: adminToken }),
    ];
    expect(answers.map((a) => a.status)).toEqual([202, 201, 200, 204]);
    expect(admin.events.map((e) => e.type)).toEqual([
      'wechat.admin.reply_rules.set',
      'wechat.admin.campaign.created',
      'wechat.admin.menu.published',
      'wechat.admin.menu.deleted',
    ]);
    for (const event of admin.events) {
      expect((event.data as { actor?: string }).actor).toBe('admin-token');
      expect(schemaProblems(event.type, event.data)).toEqual([]);
      expect(JSON.stringify(event)).not.toContain(adminToken);
    }
  });
});

describe('the admin port when metrics have a port of their own', () => {
  it('answers /metrics as any path it has not, with its headers and a log line', async () => {
    const admin = await startAccessAdmin(undefined, 'up', 'apart');
    const answers = [
      await admin.send('GET', '/metrics'),
      await admin.send('GET', '/MeTrics/', { token: adminToken }),
      await admin.send('GET', '/metrics', { token: adminToken }),
    ];
    expect(answers.map((a) => [a.status, errorOf(a).error])).toEqual([
      [401, 'unauthorized'],
      [404, 'not_found'],
      [404, 'not_found'],
    ]);
    for (const answer of answers) {
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.text).not.toContain('process_cpu');
    }
    expect(admin.logLines.filter((line) => line.msg === 'admin request')).toHaveLength(3);
  });
});

describe('the admin port when the broker does not take events', () => {
  it('answers 503 saying what WeChat did, and logs the route, never the ids sent', async () => {
    const admin = await startAccessAdmin(undefined, 'down');
    const answers = {
      code: await admin.send('POST', `/api/apps/${appId}/qrcodes`, {
        token: adminToken,
        body: JSON.stringify({ scene: 7, kind: 'permanent' }),
      }),
      menu: await admin.send('PUT', `/api/apps/${appId}/menu`, {
        token: adminToken,
        body: JSON.stringify({ button: [{ type: 'click', name: 'a', key: 'k' }] }),
      }),
      removal: await admin.send('DELETE', `/api/apps/${appId}/menu`, { token: adminToken }),
      rules: await admin.send('PUT', `/api/apps/${appId}/replies`, { token: adminToken, body: '{}' }),
      erasure: await admin.send('DELETE', `/api/apps/${appId}/users/oUserBeingErased42`, {
        token: adminToken,
      }),
    };
    const told = Object.fromEntries(
      Object.entries(answers).map(([name, answer]) => [name, [answer.status, errorOf(answer)]]),
    );
    expect(told).toEqual({
      code: [503, { error: 'not_recorded', message: expect.stringMatching(/^WeChat made the code/) }],
      menu: [503, { error: 'not_recorded', message: expect.stringMatching(/^WeChat took the menu/) }],
      removal: [503, { error: 'not_recorded', message: expect.stringMatching(/^WeChat removed the menu/) }],
      rules: [503, { error: 'not_recorded', message: expect.stringMatching(/none changed; ask again$/) }],
      erasure: [503, { error: 'not_announced', message: expect.stringMatching(/ask again$/) }],
    });
    expect(admin.events).toEqual([]);
    const failures = admin.logLines.filter((line) => line.msg === 'request failed');
    expect(failures.map((line) => line.route)).toEqual([
      '/api/apps/:appId/qrcodes',
      '/api/apps/:appId/menu',
      '/api/apps/:appId/menu',
      '/api/apps/:appId/replies',
      '/api/apps/:appId/users/:openId',
    ]);
    expect(admin.logText.join('')).not.toContain('oUserBeingErased42');
  });
});

describe('the throttle on failed authentication', () => {
  let admin: AccessAdmin;
  // The documented thresholds; the client is 127.0.0.2 so 127.0.0.1 can show it is counted apart.
  const client = '127.0.0.2';
  beforeAll(async () => {
    admin = await startAccessAdmin();
  });

  const metric = async (name: string, labels = '') => {
    const text = (await admin.send('GET', '/metrics')).text;
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  };

  it('answers 429 after 10 failures from one address, before looking at its token, and counts them', async () => {
    for (let i = 0; i < 9; i += 1)
      expect((await admin.send('GET', '/api/apps', { from: client, token: 'wrong' })).status).toBe(401);
    // The right token forgives a few mistakes.
    expect((await admin.send('GET', '/api/apps', { from: client, token: adminToken })).status).toBe(200);
    for (let i = 0; i < 10; i += 1) {
      const answer = await admin.send('GET', '/API/apps', {
        from: client,
        ...(i % 2 ? { token: 'wrong' } : {}),
      });
      expect(answer.status).toBe(401);
    }

    const throttled = await admin.send('GET', '/api/apps', { from: client, token: adminToken });
    expect(throttled.status).toBe(429);
    expect(errorOf(throttled).error).toBe('too_many_failures');
    const wait = Number(throttled.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    expect(
      (await admin.send('PUT', `/api/apps/${appId}/replies`, { from: client, token: 'wrong', body: '{}' }))
        .status,
    ).toBe(429);
    expect((await admin.send('GET', '/healthz', { from: client })).status).toBe(200);

    expect((await admin.send('GET', '/api/apps', { from: '127.0.0.1', token: adminToken })).status).toBe(200);
    expect((await admin.send('GET', '/api/apps', { from: '127.0.0.1', token: 'wrong' })).status).toBe(401);

    expect(await metric('wxp_admin_auth_failures_total', 'reason="missing"')).toBe(5);
    expect(await metric('wxp_admin_auth_failures_total', 'reason="wrong"')).toBe(9 + 5 + 1);
    expect(await metric('wxp_admin_auth_throttled_total')).toBe(2);
    expect(admin.logLines.filter((line) => line.status === 429)).toHaveLength(2);
  });
});

describe('the dashboard build', () => {
  it('writes no source map, and none is served even when one is left in the folder', async () => {
    expect(builtFiles.sort()).toEqual(['app.js', 'app.js.LEGAL.txt', 'index.html', 'styles.css']);
    expect(readFileSync(join(dashboardDir, 'app.js'), 'utf8')).not.toContain('sourceMappingURL');
    const admin = await startAccessAdmin();
    expect((await admin.send('GET', '/app.js')).status).toBe(200);
    for (const path of ['/app.js.map', '/styles.css.map', '/index.html.map']) {
      expect((await admin.send('GET', path)).status).toBe(401);
      const answer = await admin.send('GET', path, { token: adminToken });
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.text).not.toContain('secret-source');
    }
  });
});
