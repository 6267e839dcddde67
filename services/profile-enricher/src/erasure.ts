import type { WechatEvent } from '@wxp/contracts';
import type { ConsumerBehaviour } from '@wxp/consumer-service';
import type { DataKeyStore } from '@wxp/privacy';
import type { Logger } from '@wxp/service-runtime';

/** What one event of the events topic asks of a user's data keys. */
export type ErasureStep =
  /** An unfollow with no grace period: the key of the unfollow and those before it go now. */
  | { action: 'erase'; pseudonym: string; upTo: string }
  /** An erasure request: every key made by the time it was asked for goes now. */
  | { action: 'erase'; pseudonym: string; madeBy: Date }
  /** An unfollow with a grace period: the keys up to the unfollow's go at `at`, unless they follow again. */
  | { action: 'schedule'; pseudonym: string; upTo: string; at: Date }
  /** A follow at `followedAt`: the grace periods still running then end without erasure. */
  | { action: 'cancel'; pseudonym: string; followedAt: Date };

/**
 * The decision, apart from the store: what an event means for its user's keys, given the account's
 * grace period in seconds. Nothing for events that leave keys alone, or that name no user or key.
 */
export function erasureStepOf(event: WechatEvent, graceSeconds: number): ErasureStep | undefined {
  const pseudonym = event.subject;
  if (!pseudonym) return undefined;
  switch (event.type) {
    case 'wechat.user.unsubscribed': {
      // Written as erased (no key id): the keys up to it are gone already.
      const upTo = event.datakeyid;
      if (!upTo) return undefined;
      if (graceSeconds <= 0) return { action: 'erase', pseudonym, upTo };
      return {
        action: 'schedule',
        pseudonym,
        upTo,
        at: new Date((event.data.createTime + graceSeconds) * 1000),
      };
    }
    case 'wechat.user.subscribed':
      return { action: 'cancel', pseudonym, followedAt: new Date(event.data.createTime * 1000) };
    case 'wechat.user.erased':
      // requestedAt is in whole seconds: a key made later in that second may still precede the request.
      return { action: 'erase', pseudonym, madeBy: new Date(event.data.requestedAt * 1000 + 999) };
    default:
      return undefined;
  }
}

async function apply(keys: DataKeyStore, step: ErasureStep): Promise<number> {
  switch (step.action) {
    case 'erase':
      return 'upTo' in step
        ? keys.eraseUser(step.pseudonym, { upTo: step.upTo })
        : keys.eraseUser(step.pseudonym, { madeBy: step.madeBy });
    case 'schedule':
      await keys.scheduleErasure(step.pseudonym, step.upTo, step.at);
      return 0;
    case 'cancel':
      await keys.cancelScheduledErasure(step.pseudonym, step.followedAt);
      return 0;
  }
}

/**
 * A batch's steps, one list per user in the order of their events (a user's events are in one
 * partition, so in offset order here). Of follows in a row the first is kept: it calls off every
 * grace period the later ones would.
 */
export function erasurePlanOf(
  events: readonly WechatEvent[],
  graceSecondsOf: (appId: string) => number,
): ErasureStep[][] {
  const byUser = new Map<string, ErasureStep[]>();
  for (const event of events) {
    const step = erasureStepOf(event, graceSecondsOf(event.data.appId));
    if (!step) continue;
    const steps = byUser.get(step.pseudonym) ?? [];
    if (step.action === 'cancel' && steps.at(-1)?.action === 'cancel') continue;
    steps.push(step);
    byUser.set(step.pseudonym, steps);
  }
  return [...byUser.values()];
}

/**
 * Users whose steps go to the store side by side. Reading the whole history asks the store once
 * per follow; one user after another, a history of a few thousand follows took longer than a
 * consumer's catch-up allows on a loaded machine.
 */
const USERS_AT_ONCE = 16;

/** Runs each user's steps in order, up to USERS_AT_ONCE users at once; fails after all have stopped. */
async function applyPlan(keys: DataKeyStore, plan: ErasureStep[][], logger: Logger): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < plan.length) {
      const steps = plan[next++]!;
      try {
        for (const step of steps) {
          const destroyed = await apply(keys, step);
          logger.debug({ subject: step.pseudonym, action: step.action, destroyed }, 'data keys');
        }
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(USERS_AT_ONCE, plan.length) }, worker),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/**
 * Destroys users' data keys as unfollows and erasure requests say, reading the whole history once
 * (every step is idempotent: a key destroyed stays destroyed, a schedule is set again to the same
 * time, so a batch that fails part way is applied again whole). It runs in a group of its own, so a
 * slow user/info call never delays an erasure.
 */
export function erasureBehaviour(
  keys: DataKeyStore,
  graceSecondsOf: (appId: string) => number,
  logger: Logger,
): ConsumerBehaviour {
  return {
    groupSuffix: '-erasure',
    fromBeginning: true,
    async prepare() {},
    handler() {
      return async (events) => {
        const plan = erasurePlanOf(
          events.map(({ event }) => event as WechatEvent),
          graceSecondsOf,
        );
        await applyPlan(keys, plan, logger);
      };
    },
  };
}

export interface ErasureSweeper {
  /** Resolves once no sweep is running and none will start. */
  stop(): Promise<void>;
}

/**
 * Destroys the keys whose grace period is over: once at start, then every `intervalMs`. A failed
 * sweep is logged and tried again at the next tick; the keys wait in the store meanwhile.
 */
export function startErasureSweeper(keys: DataKeyStore, logger: Logger, intervalMs = 30_000): ErasureSweeper {
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweep = () => {
    // A sweep still running at the next tick (a slow store) is left to finish: one at a time.
    if (running || stopped) return;
    running = (async () => {
      try {
        const destroyed = await keys.eraseDue();
        if (destroyed > 0) logger.info({ destroyed }, 'data keys destroyed after their grace period');
      } catch (error) {
        logger.warn({ err: error }, 'erasure sweep failed; tried again at the next tick');
      }
    })().finally(() => (running = undefined));
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
