import type Router from '@koa/router';
import { createKafka } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  healthRoutes,
  startHttpServer,
  stopOnSignals,
  type Logger,
} from '@wxp/service-runtime';
import Koa from 'koa';
import { subscriberProjectionConfig } from './config';
import { startSubscriberProjection } from './projection-service';

const SERVICE = 'subscriber-projection';

async function main(logger: Logger): Promise<void> {
  const config = subscriberProjectionConfig();
  if (config.PRIVACY_KEY.length < 16) throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
  const metrics = createMetricsRegistry(SERVICE);
  const mongo = await connectMongo(config.MONGO_URL, SERVICE);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: SERVICE, logger });
  const consumer = await startSubscriberProjection({
    kafka,
    mongo,
    groupId: config.SUBSCRIBER_PROJECTION_GROUP,
    privacyKey: config.PRIVACY_KEY,
    collections: { subscribers: config.SUBSCRIBERS_COLLECTION, counts: config.FOLLOWER_COUNTS_COLLECTION },
    logger,
    metrics,
  });
  const app = new Koa();
  const health: Router = healthRoutes(metrics, { mongo: () => mongo.ping() });
  app.use(health.routes());
  const server = await startHttpServer(app, config.SUBSCRIBER_PROJECTION_PORT, config.BIND_HOST);
  logger.info({ port: server.port, group: config.SUBSCRIBER_PROJECTION_GROUP }, 'projection running');
  stopOnSignals(logger, async () => {
    await consumer.stop();
    await server.close();
    await mongo.close();
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
