import { erasureGraceSecondsOf } from '@wxp/accounts';
import { loadConfig, num, reloadOnHangup } from '@wxp/service-runtime';
import { runConsumerService } from '@wxp/consumer-service';
import { EventPublisher } from '@wxp/kafka';
import { wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { profileEnricherConsumers } from './enricher';
import { startErasureSweeper } from './erasure';

runConsumerService('profile-enricher', { port: 8085 }, async ({ db, kafka, keys, logger, onStop }) => {
  const config = loadConfig({
    ENRICHER_MAX_AGE_SECONDS: num({ default: 86400, desc: 'Older follows are left to the backfill' }),
  });
  const { api, accounts, reloadAccounts } = wechatApiSetupFromEnv(db);
  // An account added at run time: SIGHUP, and its follows are enriched rather than dead-lettered.
  reloadOnHangup(logger, 'accounts', () => ({ accounts: reloadAccounts() }));
  const publisher = await EventPublisher.connect(kafka);
  onStop(() => publisher.disconnect());
  // Keys whose grace period ran out while no unfollow was being read: checked at start and every 30 s.
  const sweeper = startErasureSweeper(keys, logger);
  onStop(() => sweeper.stop());
  return profileEnricherConsumers({
    api,
    publisher,
    keys,
    logger,
    maxAgeSeconds: config.ENRICHER_MAX_AGE_SECONDS,
    graceSecondsOf: (appId) => erasureGraceSecondsOf(accounts.get(appId)),
  });
});
