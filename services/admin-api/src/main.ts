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
  if (config.ADMIN_TOKEN.length < 16) throw new ConfigError(['ADMIN_TOKEN must be at least 16 characters']);
  const metrics = createMetricsRegistry(SERVICE);
  const mongo = await connectMongo(config.MONGO_URL, SERVICE);
  const app = createAdminApp({
    mongo,
    adminToken: config.ADMIN_TOKEN,
    subscribersCollection: config.SUBSCRIBERS_COLLECTION,
    logger,
    metrics,
  });
  const server = await startHttpServer(app, config.ADMIN_PORT, config.BIND_HOST);
  logger.info({ port: server.port }, 'admin API listening');
  stopOnSignals(logger, async () => {
    await server.close();
    await mongo.close();
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
