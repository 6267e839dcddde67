import { runConsumerService } from '@wxp/consumer-service';
import { EventPublisher } from '@wxp/kafka';
import { wechatApiFromEnv } from '@wxp/wechat-api';
import { enricherBehaviour, profilesBehaviour } from './enricher';

runConsumerService('profile-enricher', { port: 8085 }, async ({ db, kafka, privacyKey, onStop }) => {
  const publisher = await EventPublisher.connect(kafka);
  onStop(() => publisher.disconnect());
  return [enricherBehaviour(wechatApiFromEnv(db), publisher), profilesBehaviour(privacyKey)];
});
