import { loadAccounts } from '@wxp/accounts';
import { runHttpService } from '@wxp/service-runtime';
import { createEmulatorApp } from './app';
import { emulatorConfig } from './config';

runHttpService('wechat-emulator', async ({ logger, metrics }) => {
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
    metrics,
  });
  return {
    app,
    port: config.WECHAT_EMULATOR_PORT,
    host: config.BIND_HOST,
    started: { accounts: [...accounts.keys()] },
  };
});
