import { ReadModels } from '@wxp/contracts';
import { runReplayCli } from '@wxp/consumer-service';
import { profilesBehaviour } from './enricher';

// Replays the profiles read model from wechat.profiles.v2; WeChat is not asked again.
runReplayCli('profile-enricher', { profiles: ReadModels.profiles }, (_privacyKey, names) =>
  profilesBehaviour(names),
);
