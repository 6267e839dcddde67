import { ReadModels } from '@wxp/contracts';
import { runReplayCli } from '@wxp/consumer-service';
import { subscriberBehaviour } from './projection-service';

runReplayCli(
  'subscriber-projection',
  { subscribers: ReadModels.subscribers, counts: ReadModels.followerCounts },
  subscriberBehaviour,
);
