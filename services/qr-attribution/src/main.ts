import { pointedBehaviour, runConsumerService } from '@wxp/consumer-service';
import { attributionBehaviour, attributionCollections, campaignsBehaviour } from './attribution-service';

runConsumerService('qr-attribution', { port: 8083 }, ({ privacyKey }) => [
  pointedBehaviour('qr-attribution', attributionCollections, (names) =>
    attributionBehaviour(privacyKey, names),
  ),
  campaignsBehaviour(),
]);
