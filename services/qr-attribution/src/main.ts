import { runConsumerService } from '@wxp/consumer-service';
import { attributionBehaviour } from './attribution-service';

runConsumerService('qr-attribution', { port: 8083 }, ({ privacyKey }) => attributionBehaviour(privacyKey));
