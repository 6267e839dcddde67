import { EventPublisher, createKafka } from '@wxp/kafka';
import { ReadModels } from '@wxp/contracts';
import { connectMongo } from '@wxp/mongo';
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  startHttpServer,
  stopOnSignals,
  type Logger,
} from '@wxp/service-runtime';
import { createAdminApp } from './app';
import { adminApiConfig } from './config';

const SERVICE = 'admin-api';

async function main(logger: Logger): Promise<void> {
  const config = adminApiConfig();
  const short = (['ADMIN_TOKEN', 'PRIVACY_KEY'] as const).filter((name) => config[name].length < 16);
  if (short.length > 0) throw new ConfigError(short.map((name) => `${name} must be at least 16 characters`));
  const metrics = createMetricsRegistry(SERVICE);
  const mongo = await connectMongo(config.MONGO_URL, SERVICE);
  const publisher = await EventPublisher.connect(
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: SERVICE, logger }),
  );
  const app = createAdminApp({
    mongo,
    adminToken: config.ADMIN_TOKEN,
    privacyKey: config.PRIVACY_KEY,
    subscribersCollection: ReadModels.subscribers,
    countsCollection: ReadModels.followerCounts,
    campaignCountsCollection: ReadModels.campaignCounts,
    replyRulesCollection: ReadModels.replyRules,
    publish: (event) => publisher.publish(event),
    logger,
    metrics,
  });
  const server = await startHttpServer(app, config.ADMIN_PORT, config.BIND_HOST);
  logger.info({ port: server.port }, 'admin API listening');
  stopOnSignals(logger, async () => {
    await server.close();
    await publisher.disconnect();
    await mongo.close();
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
