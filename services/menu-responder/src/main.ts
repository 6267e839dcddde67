import { runConsumerService } from '@wxp/consumer-service';
import { loadConfig, num } from '@wxp/service-runtime';
import { wechatApiFromEnv } from '@wxp/wechat-api';
import { menuResponderConsumers } from './responder';

runConsumerService('menu-responder', { port: 8084 }, ({ db, logger }) => {
  const config = loadConfig({
    RESPONDER_MAX_AGE_SECONDS: num({ default: 3600, desc: 'Older events get no reply' }),
  });
  return menuResponderConsumers(wechatApiFromEnv(db), logger, config.RESPONDER_MAX_AGE_SECONDS);
});
