import { loadAccounts } from '@wxp/accounts';
import {
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  startHttpServer,
  stopOnSignals,
  type Logger,
} from '@wxp/service-runtime';
import { createEmulatorApp } from './app';
import { emulatorConfig } from './config';

const SERVICE = 'wechat-emulator';

async function main(logger: Logger): Promise<void> {
  const config = emulatorConfig();
  const accounts = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
  const app = createEmulatorApp({
    accounts,
    tokenTtlSeconds: config.EMULATOR_TOKEN_TTL_SECONDS,
    tokenOverlapSeconds: config.EMULATOR_TOKEN_OVERLAP_SECONDS,
    gatewayUrl: config.GATEWAY_URL,
    pushTimeoutMs: config.EMULATOR_PUSH_TIMEOUT_MS,
    pushRetryDelayMs: config.EMULATOR_PUSH_RETRY_DELAY_MS,
    logger,
    metrics: createMetricsRegistry(SERVICE),
  });
  const server = await startHttpServer(app, config.WECHAT_EMULATOR_PORT, config.BIND_HOST);
  logger.info({ port: server.port, accounts: [...accounts.keys()] }, 'WeChat emulator listening');
  stopOnSignals(logger, () => server.close());
}

const logger = createLogger(SERVICE);
main(logger).catch((error: unknown) => exitOnStartupError(SERVICE, logger, error));
