import { repliesInAnswer } from '@wxp/accounts';
import { runConsumerService } from '@wxp/consumer-service';
import { loadConfig, num, reloadOnHangup } from '@wxp/service-runtime';
import { wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { menuResponderConsumers } from './responder';

runConsumerService('menu-responder', { port: 8084 }, ({ db, logger }) => {
  const config = loadConfig({
    RESPONDER_MAX_AGE_SECONDS: num({ default: 3600, desc: 'Older events get no reply' }),
  });
  const { api, accounts, reloadAccounts } = wechatApiSetupFromEnv(db);
  // An account added at run time: SIGHUP, and its clicks are answered from then on.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: reloadAccounts() }));
  return menuResponderConsumers(api, logger, config.RESPONDER_MAX_AGE_SECONDS, (appId) =>
    repliesInAnswer(accounts.get(appId)),
  );
});
