import { createKafka } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  serveBackgroundService,
  type Logger,
} from '@wxp/service-runtime';
import { subscriberProjectionConfig } from './config';
import { startSubscriberProjection } from './projection-service';

const SERVICE = 'subscriber-projection';

async function main(logger: Logger): Promise<void> {
  const config = subscriberProjectionConfig();
  if (config.PRIVACY_KEY.length < 16) throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
  const metrics = createMetricsRegistry(SERVICE);
  const mongo = await connectMongo(config.MONGO_URL, SERVICE);
  const consumer = await startSubscriberProjection({
    kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: SERVICE, logger }),
    mongo,
    groupId: config.SUBSCRIBER_PROJECTION_GROUP,
    privacyKey: config.PRIVACY_KEY,
    collections: { subscribers: config.SUBSCRIBERS_COLLECTION, counts: config.FOLLOWER_COUNTS_COLLECTION },
    logger,
    metrics,
  });
  await serveBackgroundService({
    logger,
    metrics,
    port: config.SUBSCRIBER_PROJECTION_PORT,
    host: config.BIND_HOST,
    checks: { mongo: () => mongo.ping() },
    started: { group: config.SUBSCRIBER_PROJECTION_GROUP },
    stop: async () => {
      await consumer.stop();
      await mongo.close();
    },
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
