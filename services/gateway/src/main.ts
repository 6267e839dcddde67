import { EventPublisher, createKafka } from '@wxp/kafka';
import {
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  startHttpServer,
  stopOnSignals,
  type Logger,
} from '@wxp/service-runtime';
import { AccountDirectory } from './account-directory';
import { createGatewayApp } from './app';
import { gatewayConfig } from './config';

const SERVICE = 'gateway';

async function main(logger: Logger): Promise<void> {
  const config = gatewayConfig();
  const accounts = AccountDirectory.fromFile(config.WECHAT_ACCOUNTS_FILE);
  const metrics = createMetricsRegistry(SERVICE);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: SERVICE, logger });
  const publisher = await EventPublisher.connect(kafka);
  const app = createGatewayApp({
    accounts,
    publish: (event) => publisher.publish(event),
    isBrokerConnected: () => publisher.isConnected,
    logger,
    metrics,
    maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    maxClockSkewSeconds: config.GATEWAY_MAX_CLOCK_SKEW_SECONDS,
    ackTimeoutMs: config.GATEWAY_ACK_TIMEOUT_MS,
  });
  const server = await startHttpServer(app, config.GATEWAY_PORT, config.BIND_HOST);
  logger.info({ port: server.port, accounts: accounts.appIds }, 'gateway listening');
  // Adding or changing an account: edit the file, then SIGHUP. A file that does not load is
  // reported and the accounts already served stay in place.
  process.on('SIGHUP', () => {
    try {
      logger.info({ accounts: accounts.reload(config.WECHAT_ACCOUNTS_FILE) }, 'accounts reloaded');
    } catch (error) {
      logger.error({ err: error }, 'accounts file not reloaded');
    }
  });
  stopOnSignals(logger, async () => {
    await server.close();
    await publisher.disconnect();
  });
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
