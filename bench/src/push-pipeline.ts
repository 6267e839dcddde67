import type { PhaseContext } from './phase-context';
import { startService, type RunningService } from './services';

/** The privacy key of every benchmark: pseudonyms, and the wrapping of users' data keys. */
export const BENCH_PRIVACY_KEY = 'bench-privacy-key-0123456789';

/** What a gateway needs besides its accounts: the broker, and the store its users' data keys go to. */
export function gatewayEnvironment(
  brokers: string[],
  mongoUrl: string,
  accountsFile: string,
): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers.join(','),
    MONGO_URL: mongoUrl,
    PRIVACY_KEY: BENCH_PRIVACY_KEY,
    WECHAT_ACCOUNTS_FILE: accountsFile,
  };
}

export interface PushPipeline {
  gateway: RunningService;
  projection: RunningService;
  /** The database the projection writes, of the phase's own. */
  mongoUrl: string;
  /** The projection's consumer group. */
  projectionGroup: string;
}

/**
 * The gateway and the subscriber projection as their own processes: the projection's group starts
 * at the end of the topic, so it reads only what the phase sends, into a database named for it.
 */
export async function startPushPipeline(context: PhaseContext, name: string): Promise<PushPipeline> {
  const { stack, accounts } = context;
  const mongoUrl = stack.mongoUrl(`bench_${name}`);
  const group = `bench-${name}-${Date.now().toString(36)}`;
  await stack.positionGroupAtEnd(group);
  const projection = await startService('subscriber-projection', {
    env: {
      KAFKA_BROKERS: stack.brokers.join(','),
      MONGO_URL: mongoUrl,
      PRIVACY_KEY: BENCH_PRIVACY_KEY,
      SUBSCRIBER_PROJECTION_GROUP: group,
    },
  });
  // The projection opens what the gateway seals: both use the phase's database for data keys.
  const gateway = await startService('gateway', {
    env: gatewayEnvironment(stack.brokers, mongoUrl, accounts.file),
  });
  return { gateway, projection, mongoUrl, projectionGroup: group };
}
