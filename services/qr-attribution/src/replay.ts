import { runReplayCli } from '@wxp/consumer-service';
import { attributionBehaviour, attributionCollections } from './attribution-service';

runReplayCli('qr-attribution', attributionCollections, (_privacyKey, names) => attributionBehaviour(names));
