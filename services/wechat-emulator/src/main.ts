import { loadAccounts } from '@wxp/accounts';
import { reloadOnHangup, runHttpService } from '@wxp/service-runtime';
import { createEmulator } from './app';
import { emulatorConfig } from './config';

runHttpService('wechat-emulator', async ({ logger, metrics }) => {
  const config = emulatorConfig();
  const accounts = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
  const emulator = createEmulator({
    accounts,
    tokenTtlSeconds: config.EMULATOR_TOKEN_TTL_SECONDS,
    tokenOverlapSeconds: config.EMULATOR_TOKEN_OVERLAP_SECONDS,
    gatewayUrl: config.GATEWAY_URL,
    pushTimeoutMs: config.EMULATOR_PUSH_TIMEOUT_MS,
    pushRetryDelayMs: config.EMULATOR_PUSH_RETRY_DELAY_MS,
    logger,
    metrics,
  });
  // The same accounts file as the services': SIGHUP after adding an account, as for them.
  reloadOnHangup(logger, 'accounts', () => {
    const fresh = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
    emulator.reloadAccounts(fresh);
    return { accounts: [...fresh.keys()] };
  });
  return {
    app: emulator.app,
    port: config.WECHAT_EMULATOR_PORT,
    host: config.BIND_HOST,
    started: { accounts: [...accounts.keys()] },
  };
});
