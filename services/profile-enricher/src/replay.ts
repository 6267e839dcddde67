import { ReadModels } from '@wxp/contracts';
import { runReplayCli } from '@wxp/consumer-service';
import { profilesBehaviour } from './enricher';

// Replays the profiles read model from wechat.profiles.v2; WeChat is not asked again.
runReplayCli(
  'profile-enricher',
  { profiles: ReadModels.profiles },
  (_privacyKey, names) => profilesBehaviour(names),
  {
    noSnapshots:
      'the profiles model is personal data through and through, and a snapshot holds nothing personal ' +
      '(no later erasure would reach it); wxp export writes the profiles of a time window',
  },
);
