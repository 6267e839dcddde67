import { repliesInAnswer } from '@wxp/accounts';
import { runConsumerService } from '@wxp/consumer-service';
import { Topics } from '@wxp/contracts';
import { EventPublisher } from '@wxp/kafka';
import { ConfigError, loadConfig, num, readOrGather, reloadOnHangup } from '@wxp/service-runtime';
import { wechatApiConfig, wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { menuResponderConsumers } from './responder';

function responderConfig() {
  const problems: string[] = [];
  const own = readOrGather(problems, () =>
    loadConfig({ RESPONDER_MAX_AGE_SECONDS: num({ default: 3600, desc: 'Older events get no reply' }) }),
  );
  const wechat = readOrGather(problems, () => wechatApiConfig());
  if (!own || !wechat) throw new ConfigError(problems);
  return { ...own, wechat };
}

const service = { port: 8084, config: responderConfig };

runConsumerService('menu-responder', service, async ({ config, db, kafka, logger, onStop }) => {
  const { api, accounts, reloadAccounts } = wechatApiSetupFromEnv(db, process.env, config.wechat);
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
