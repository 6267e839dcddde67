import { pointedBehaviour, runConsumerService } from '@wxp/consumer-service';
import { subscriberBehaviour, subscriberCollections } from './projection-service';

runConsumerService('subscriber-projection', { port: 8082 }, ({ privacyKey }) =>
  pointedBehaviour('subscriber-projection', subscriberCollections, (names) =>
    subscriberBehaviour(privacyKey, names),
  ),
);
