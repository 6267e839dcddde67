import type { Account } from '@wxp/accounts';
import { EventPublisher, createKafka } from '@wxp/kafka';
import type { MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry, startHttpServer, type RunningServer } from '@wxp/service-runtime';
import { WechatApiClient } from '@wxp/wechat-api';
import pino from 'pino';
import { createAdminApp } from '../../services/admin-api/src/app';
import type { AuthThrottleOptions } from '../../services/admin-api/src/auth-throttle';
import { kafkaBrokers } from './infrastructure';

export interface RunningAdmin extends RunningServer {
  request(method: string, path: string, body?: unknown, token?: string): Promise<Response>;
  get(path: string, token?: string): Promise<Response>;
}

/**
 * The admin API over the test's own database and the run's broker, on a free port, calling the
 * WeChat API at `wechatApiBase` (an emulator) for `accounts`.
 */
export async function startAdmin(
  mongo: MongoConnection,
  secrets: { adminToken: string; privacyKey: string },
  options: {
    accounts: Account[];
    wechatApiBase?: string;
    dashboardDir?: string;
    authThrottle?: Partial<AuthThrottleOptions>;
  },
): Promise<RunningAdmin> {
  const accounts = new Map(options.accounts.map((a) => [a.appId, a]));
  const wechat = new WechatApiClient({
    baseUrl: options.wechatApiBase ?? 'http://127.0.0.1:9',
    secretOf: (appId) => accounts.get(appId)?.appSecret,
    tokenCollection: mongo.db.collection('wechat_access_tokens'),
    retry: { deadlineMs: 2000, baseDelayMs: 20, maxDelayMs: 200 },
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const publisher = await EventPublisher.connect(
    createKafka({ brokers: kafkaBrokers(), clientId: 'admin-test', logger }),
  );
  const server = await startHttpServer(
    createAdminApp({
      mongo,
      ...secrets,
      accounts,
      wechat,
      ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
      ...(options.authThrottle === undefined ? {} : { authThrottle: options.authThrottle }),
      publish: (event) => publisher.publish(event),
      logger,
      metrics: createMetricsRegistry('admin-api'),
    }),
    0,
  );
  const request = (method: string, path: string, body?: unknown, token = secrets.adminToken) =>
    fetch(`http://127.0.0.1:${server.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    server: server.server,
    port: server.port,
    request,
    get: (path, token) => request('GET', path, undefined, token),
    async close(graceMs) {
      await server.close(graceMs);
      await publisher.disconnect();
    },
  };
}
