import { runConsumerService } from '@wxp/consumer-service';
import { subscriberBehaviour } from './projection-service';

runConsumerService('subscriber-projection', { port: 8082 }, ({ privacyKey }) =>
  subscriberBehaviour(privacyKey),
);
