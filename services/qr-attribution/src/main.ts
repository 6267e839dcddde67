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
import { startQrAttribution } from './attribution-service';
import { qrAttributionConfig } from './config';

const SERVICE = 'qr-attribution';

async function main(logger: Logger): Promise<void> {
  const config = qrAttributionConfig();
  if (config.PRIVACY_KEY.length < 16) throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
  const metrics = createMetricsRegistry(SERVICE);
  const mongo = await connectMongo(config.MONGO_URL, SERVICE);
  const consumer = await startQrAttribution({
    kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: SERVICE, logger }),
    mongo,
    groupId: config.QR_ATTRIBUTION_GROUP,
    privacyKey: config.PRIVACY_KEY,
    collections: { users: config.ATTRIBUTION_USERS_COLLECTION, campaigns: config.CAMPAIGN_COUNTS_COLLECTION },
    logger,
    metrics,
  });
  await serveBackgroundService({
    logger,
    metrics,
    port: config.QR_ATTRIBUTION_PORT,
    host: config.BIND_HOST,
    checks: { mongo: () => mongo.ping() },
    started: { group: config.QR_ATTRIBUTION_GROUP },
    stop: async () => {
      await consumer.stop();
      await mongo.close();
    },
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
