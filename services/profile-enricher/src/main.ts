import { erasureGraceSecondsOf } from '@wxp/accounts';
import { ConfigError, loadConfig, num, readOrGather, reloadOnHangup } from '@wxp/service-runtime';
import { runConsumerService } from '@wxp/consumer-service';
import { EventPublisher } from '@wxp/kafka';
import { wechatApiConfig, wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { profileEnricherConsumers } from './enricher';
import { startErasureSweeper } from './erasure';

function enricherConfig() {
  const problems: string[] = [];
  const own = readOrGather(problems, () =>
    loadConfig({
      ENRICHER_MAX_AGE_SECONDS: num({ default: 86400, desc: 'Older follows are left to the backfill' }),
    }),
  );
  const wechat = readOrGather(problems, () => wechatApiConfig());
  if (!own || !wechat) throw new ConfigError(problems);
  return { ...own, wechat };
}

const service = { port: 8085, config: enricherConfig };

runConsumerService('profile-enricher', service, async ({ config, db, kafka, keys, logger, onStop }) => {
  const { api, accounts, reloadAccounts } = wechatApiSetupFromEnv(db, process.env, config.wechat);
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
