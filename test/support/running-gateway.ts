import type { Account } from '@wxp/accounts';
import { EventPublisher, createKafka } from '@wxp/kafka';
import { DataKeyStore } from '@wxp/privacy';
import type { Db } from 'mongodb';
import { createMetricsRegistry, startHttpServer, type Registry } from '@wxp/service-runtime';
import pino, { type Logger } from 'pino';
import { AccountDirectory } from '../../services/gateway/src/account-directory';
import { createGatewayApp } from '../../services/gateway/src/app';
import { gatewayServerDefaults } from '../../services/gateway/src/config';
import { sealerFor } from '../../services/gateway/src/sealing';
import type { ReplyRulesSource } from '../../services/gateway/src/reply-rules-feed';
import { kafkaBrokers } from './infrastructure';
import { sharedKeysDb, testPrivacyKey, testPseudonymOf } from './privacy';
import type { SignedPush } from './wechat-push';

export interface RunningGateway {
  /** Where WeChat would be configured to push: the origin, without /wechat. */
  url: string;
  metrics: Registry;
  post(appId: string, push: SignedPush): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

/**
 * The gateway as it runs in production (its server limits included), over the real broker, on a
 * free port. `logger` lets a test read what the gateway logs.
 */
export async function startGateway(
  accounts: Account[],
  options: {
    brokers?: string[];
    ackTimeoutMs?: number;
    logger?: Logger;
    /** Where users' data keys go: the consumers' store. Default: the run's shared keys database. */
    keysDb?: Db;
    privacyKey?: string;
    /** The gateway's clock, in milliseconds; default Date.now. */
    now?: () => number;
    /** How long the gateway trusts a data key it has read (PRIVACY_KEY_CACHE_SECONDS); default 30. */
    keyCacheSeconds?: number;
    /** Where accounts that reply inside the answer find their rules. */
    replyRules?: ReplyRulesSource;
  } = {},
): Promise<RunningGateway> {
  const privacyKey = options.privacyKey ?? testPrivacyKey;
  const keysDb = options.keysDb ?? (await sharedKeysDb());
  const keys = new DataKeyStore(
    keysDb,
    privacyKey,
    options.keyCacheSeconds === undefined ? {} : { cacheSeconds: options.keyCacheSeconds },
  );
  await keys.prepare();
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const kafka = createKafka({ brokers: options.brokers ?? kafkaBrokers(), clientId: 'gateway-test', logger });
  const publisher = await EventPublisher.connect(kafka);
  const metrics = createMetricsRegistry('gateway');
  const server = await startHttpServer(
    createGatewayApp({
      accounts: new AccountDirectory(new Map(accounts.map((a) => [a.appId, a]))),
      publish: (events) => publisher.publishTogether(events),
      isBrokerConnected: () => publisher.isConnected,
      pseudonymOf: (appId, openId) => testPseudonymOf(appId, openId, privacyKey),
      seal: sealerFor(keys),
      ...(options.now ? { now: options.now } : {}),
      ...(options.replyRules ? { replyRules: options.replyRules } : {}),
      isStoreReachable: async () => {
        await keysDb.command({ ping: 1 });
      },
      logger,
      metrics,
      maxBodyBytes: 64 * 1024,
      maxClockSkewSeconds: 300,
      ackTimeoutMs: options.ackTimeoutMs ?? 4000,
    }),
    0,
    '127.0.0.1',
    gatewayServerDefaults,
  );
  return {
    url: `http://127.0.0.1:${server.port}`,
    metrics,
    async post(appId, push) {
      const response = await fetch(`http://127.0.0.1:${server.port}/wechat/${appId}?${push.query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: push.body,
      });
      return { status: response.status, text: await response.text() };
    },
    async close() {
      await server.close();
      await publisher.disconnect();
    },
  };
}
