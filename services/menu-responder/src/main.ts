import { loadAccounts } from '@wxp/accounts';
import { runConsumerService } from '@wxp/consumer-service';
import { loadConfig, num, str, url } from '@wxp/service-runtime';
import { WechatApiClient } from '@wxp/wechat-api';
import { replyRulesBehaviour, responderBehaviour } from './responder';

runConsumerService('menu-responder', { port: 8084 }, ({ db, logger }) => {
  const config = loadConfig({
    WECHAT_API_BASE: url({
      default: 'http://127.0.0.1:8089',
      desc: 'https://api.weixin.qq.com in production',
    }),
    WECHAT_ACCOUNTS_FILE: str({ desc: 'The accounts, with the secrets the API needs' }),
    RESPONDER_MAX_AGE_SECONDS: num({ default: 3600, desc: 'Older events get no reply' }),
  });
  const accounts = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
  const api = new WechatApiClient({
    baseUrl: config.WECHAT_API_BASE,
    secretOf: (appId) => accounts.get(appId)?.appSecret,
    tokenCollection: db.collection('wechat_access_tokens'),
  });
  return [replyRulesBehaviour(), responderBehaviour(api, logger, config.RESPONDER_MAX_AGE_SECONDS)];
});
