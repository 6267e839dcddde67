import { repliesInAnswer, type Account } from '@wxp/accounts';
import { createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import type { AuthThrottleOptions } from '../../services/admin-api/src/auth-throttle';
import { ReplyRulesFeed } from '../../services/gateway/src/reply-rules-feed';
import { replyRulesBehaviour } from '../../services/menu-responder/src/responder';
import { qrAttributionConsumers } from '../../services/qr-attribution/src/attribution-service';
import { subscriberProjectionConsumers } from '../../services/subscriber-projection/src/projection-service';
import { kafkaBrokers, mongoUrlFor, uniqueName } from './infrastructure';
import { startAdmin, type RunningAdmin } from './running-admin';
import { startConsumers } from './running-consumers';
import { startEmulator, type RunningEmulator } from './running-emulator';
import { startGateway, type RunningGateway } from './running-gateway';
import { testPrivacyKey } from './privacy';
import { testAccount } from './wechat-push';

/**
 * What a marketing team's campaign touches, in process over the run's real broker and a store
 * database of its own (users' data keys included): the emulator acting as WeChat, the gateway, the
 * projections the admin API reads (subscribers, attribution, campaigns, reply rules) and the admin
 * API itself. Nothing sends customer-service replies; an account with `replyChannel: "passive"` gets
 * its replies in the gateway's answer.
 */
export interface CampaignStack {
  account: Account;
  adminToken: string;
  privacyKey: string;
  database: string;
  mongo: MongoConnection;
  emulator: RunningEmulator;
  gateway: RunningGateway;
  admin: RunningAdmin;
  adminUrl: string;
  /** The user acts in WeChat; the emulator pushes it to the gateway like WeChat would. */
  simulate(
    user: string,
    action: Record<string, unknown>,
  ): Promise<{ openId: string; delivered: boolean; reply?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startCampaignStack(
  options: { account?: Account; dashboardDir?: string; authThrottle?: Partial<AuthThrottleOptions> } = {},
): Promise<CampaignStack> {
  const account = options.account ?? testAccount();
  const adminToken = `admin-${uniqueName('token')}`;
  // One key and one store for the whole stack, as one deployment has: the gateway seals with keys
  // the consumers open with and an erasure request destroys.
  const privacyKey = testPrivacyKey;
  const database = uniqueName('campaigns');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'campaign-stack', logger });
  const mongo = await connectMongo(mongoUrlFor(database), 'campaign-stack');
  const consumers: RunningConsumer[] = [
    ...(await startConsumers(
      'subscriber-projection',
      kafka,
      mongo,
      subscriberProjectionConsumers(privacyKey),
    )),
    ...(await startConsumers('qr-attribution', kafka, mongo, qrAttributionConsumers())),
    // The responder's rules only: the stack sends no replies (menuResponderConsumers would).
    ...(await startConsumers('menu-responder', kafka, mongo, [replyRulesBehaviour()])),
  ];
  // An account that replies inside the answer has its gateway read the rules, as production's does.
  const replyRules = repliesInAnswer(account) ? await ReplyRulesFeed.start(kafka, logger) : undefined;
  await replyRules?.caughtUp();
  const gateway = await startGateway([account], {
    keysDb: mongo.db,
    privacyKey,
    ...(replyRules ? { replyRules } : {}),
  });
  const emulator = await startEmulator([account], { gatewayUrl: gateway.url });
  const admin = await startAdmin(
    mongo,
    { adminToken, privacyKey },
    {
      accounts: [account],
      wechatApiBase: emulator.baseUrl,
      ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
      ...(options.authThrottle === undefined ? {} : { authThrottle: options.authThrottle }),
    },
  );
  return {
    account,
    adminToken,
    privacyKey,
    database,
    mongo,
    emulator,
    gateway,
    admin,
    adminUrl: `http://127.0.0.1:${admin.port}`,
    async simulate(user, action) {
      const answer = await emulator.control('simulate', { appId: account.appId, user, ...action });
      if (answer.status !== 200)
        throw new Error(`simulate ${JSON.stringify(action)}: ${JSON.stringify(answer.body)}`);
      return answer.body as { openId: string; delivered: boolean; reply?: Record<string, unknown> };
    },
    async close() {
      await admin.close();
      await emulator.close();
      await gateway.close();
      await replyRules?.stop();
      await Promise.all(consumers.map((c) => c.stop()));
      await mongo.close();
    },
  };
}
