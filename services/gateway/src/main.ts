import { EventPublisher, createKafka, kafkaSecurityFrom } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import { DataKeyStore, pseudonymOf } from '@wxp/privacy';
import { metricsPortFrom, reloadOnHangup, runHttpService } from '@wxp/service-runtime';
import { AccountDirectory } from './account-directory';
import { createGatewayApp } from './app';
import { ReplyRulesFeed } from './reply-rules-feed';
import { sealerFor } from './sealing';
import { gatewayConfig, gatewayPushLimits, gatewayServerLimits } from './config';

runHttpService('gateway', async ({ logger, metrics }) => {
  const config = gatewayConfig();
  // Checked before anything connects: a bad TLS or SASL variable stops the start with its line.
  const security = kafkaSecurityFrom(process.env);
  // Unset: /metrics on the service's own port, as before. Set: only there, off the public port.
  const metricsPort = metricsPortFrom('GATEWAY_METRICS_PORT');
  const accounts = AccountDirectory.fromFile(config.WECHAT_ACCOUNTS_FILE);
  const store = await connectMongo(config.MONGO_URL, 'gateway');
  const keys = new DataKeyStore(store.db, config.PRIVACY_KEY, {
    cacheSeconds: config.PRIVACY_KEY_CACHE_SECONDS,
  });
  await keys.prepare();
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'gateway', logger, security });
  const publisher = await EventPublisher.connect(kafka);
  // Accounts that reply inside the answer are answered once the rules written before are read.
  const replyRules = await ReplyRulesFeed.start(kafka, logger);
  // Adding or changing an account: edit the file, then SIGHUP. A file that does not load is
  // reported and the accounts already served stay in place.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: accounts.reload(config.WECHAT_ACCOUNTS_FILE) }));
  const app = createGatewayApp({
    accounts,
    publish: (events) => publisher.publishTogether(events),
    isBrokerConnected: () => publisher.isConnected,
    pseudonymOf: (appId, openId) => pseudonymOf(config.PRIVACY_KEY, appId, openId),
    seal: sealerFor(keys),
    replyRules,
    isStoreReachable: () => store.ping(),
    logger,
    metrics,
    ...gatewayPushLimits(config),
  });
  return {
    app,
    port: config.GATEWAY_PORT,
    host: config.BIND_HOST,
    metricsPort,
    limits: gatewayServerLimits(config),
    started: { accounts: accounts.appIds },
    stop: async () => {
      await replyRules.stop();
      await publisher.disconnect();
      await store.close();
    },
  };
});
