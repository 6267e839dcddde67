import { runConsumerService } from '@wxp/consumer-service';
import { subscriberProjectionConsumers } from './projection-service';

runConsumerService('subscriber-projection', { port: 8082 }, ({ privacyKey }) =>
  subscriberProjectionConsumers(privacyKey),
);
