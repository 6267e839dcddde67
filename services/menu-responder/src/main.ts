import { repliesInAnswer } from '@wxp/accounts';
import { runConsumerService } from '@wxp/consumer-service';
import { Topics } from '@wxp/contracts';
import { EventPublisher } from '@wxp/kafka';
import { loadConfig, num, reloadOnHangup } from '@wxp/service-runtime';
import { wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { menuResponderConsumers } from './responder';

runConsumerService('menu-responder', { port: 8084 }, async ({ db, kafka, logger, onStop }) => {
  const config = loadConfig({
    RESPONDER_MAX_AGE_SECONDS: num({ default: 3600, desc: 'Older events get no reply' }),
  });
  const { api, accounts, reloadAccounts } = wechatApiSetupFromEnv(db);
  // An account added at run time: SIGHUP, and its clicks are answered from then on.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: reloadAccounts() }));
  const publisher = await EventPublisher.connect(kafka);
  onStop(() => publisher.disconnect());
  return menuResponderConsumers(api, logger, config.RESPONDER_MAX_AGE_SECONDS, {
    repliesInAnswer: (appId) => repliesInAnswer(accounts.get(appId)),
    // With the user's key, like the event it answers: same partition, after it.
    recordReply: (record) => publisher.publish({ topic: Topics.events, key: record.subject!, event: record }),
  });
});
