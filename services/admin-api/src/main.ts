import { EventPublisher, createKafka, readKafkaSecurity } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import { DataKeyStore } from '@wxp/privacy';
import {
  ConfigError,
  metricsPortFrom,
  readOrGather,
  reloadOnHangup,
  runHttpService,
} from '@wxp/service-runtime';
import { wechatApiConfig, wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { createAdminApp } from './app';
import { adminApiConfig } from './config';

runHttpService('admin-api', async ({ logger, metrics }) => {
  // Every variable is read before anything connects, and every bad one told at once.
  const problems: string[] = [];
  const config = readOrGather(problems, () => adminApiConfig());
  const wechatConfig = readOrGather(problems, () => wechatApiConfig());
  // Unset: /metrics on the service's own port, as before. Set: only there, off the public port.
  const metricsPort = readOrGather(problems, () => metricsPortFrom('ADMIN_METRICS_PORT'));
  const short = (['ADMIN_TOKEN', 'PRIVACY_KEY'] as const).filter(
    (name) => config !== undefined && config[name].length < 16,
  );
  problems.push(...short.map((name) => `${name} must be at least 16 characters`));
  const { problems: kafkaProblems, security } = readKafkaSecurity(process.env);
  problems.push(...kafkaProblems);
  if (problems.length > 0 || !config || !wechatConfig) throw new ConfigError(problems);
  const mongo = await connectMongo(config.MONGO_URL, 'admin-api');
  // The gateway's key store (same MONGO_URL): an erasure destroys the keys it sealed with.
  const keys = new DataKeyStore(mongo.db, config.PRIVACY_KEY);
  await keys.prepare();
  const {
    api: wechat,
    accounts,
    reloadAccounts,
  } = wechatApiSetupFromEnv(mongo.db, process.env, wechatConfig);
  // An account added or changed in the file: SIGHUP. The routes read the same map.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: reloadAccounts() }));
  const publisher = await EventPublisher.connect(
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'admin-api', logger, security }),
  );
  const app = createAdminApp({
    mongo,
    adminToken: config.ADMIN_TOKEN,
    privacyKey: config.PRIVACY_KEY,
    keys,
    accounts,
    wechat,
    publish: (event) => publisher.publish(event),
    logger,
    metrics,
  });
  return {
    app,
    port: config.ADMIN_PORT,
    host: config.BIND_HOST,
    metricsPort,
    async stop() {
      await publisher.disconnect();
      await mongo.close();
    },
  };
});
