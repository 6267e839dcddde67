import { loadConfig, num } from '@wxp/service-runtime';
import { runConsumerService } from '@wxp/consumer-service';
import { EventPublisher } from '@wxp/kafka';
import { wechatApiFromEnv } from '@wxp/wechat-api';
import { profileEnricherConsumers } from './enricher';

runConsumerService('profile-enricher', { port: 8085 }, async ({ db, kafka, privacyKey, onStop }) => {
  const config = loadConfig({
    ENRICHER_MAX_AGE_SECONDS: num({ default: 86400, desc: 'Older follows are left to the backfill' }),
  });
  const publisher = await EventPublisher.connect(kafka);
  onStop(() => publisher.disconnect());
  return profileEnricherConsumers(
    privacyKey,
    wechatApiFromEnv(db),
    publisher,
    config.ENRICHER_MAX_AGE_SECONDS,
  );
});
