import { runConsumerService } from '@wxp/consumer-service';
import { qrAttributionConsumers } from './attribution-service';

runConsumerService('qr-attribution', { port: 8083 }, () => qrAttributionConsumers());
