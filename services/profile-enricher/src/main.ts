import { loadConfig, num, reloadOnHangup } from '@wxp/service-runtime';
import { runConsumerService } from '@wxp/consumer-service';
import { EventPublisher } from '@wxp/kafka';
import { wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { profileEnricherConsumers } from './enricher';

runConsumerService('profile-enricher', { port: 8085 }, async ({ db, kafka, logger, privacyKey, onStop }) => {
  const config = loadConfig({
    ENRICHER_MAX_AGE_SECONDS: num({ default: 86400, desc: 'Older follows are left to the backfill' }),
  });
  const { api, reloadAccounts } = wechatApiSetupFromEnv(db);
  // An account added at run time: SIGHUP, and its follows are enriched rather than dead-lettered.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: reloadAccounts() }));
  const publisher = await EventPublisher.connect(kafka);
  onStop(() => publisher.disconnect());
  return profileEnricherConsumers(privacyKey, api, publisher, config.ENRICHER_MAX_AGE_SECONDS);
});
