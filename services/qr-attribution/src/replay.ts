import { ReadModels } from '@wxp/contracts';
import { runReplayCli } from '@wxp/consumer-service';
import { attributionBehaviour } from './attribution-service';

runReplayCli(
  'qr-attribution',
  { users: ReadModels.attributionUsers, campaigns: ReadModels.campaignCounts },
  attributionBehaviour,
);
