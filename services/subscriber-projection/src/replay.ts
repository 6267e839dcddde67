import { runReplayCli } from '@wxp/consumer-service';
import { subscriberBehaviour, subscriberCollections } from './projection-service';

runReplayCli('subscriber-projection', subscriberCollections, subscriberBehaviour);
