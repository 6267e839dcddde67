export interface RetryPolicy {
  /** Give up once this much time has passed since the first attempt. */
  deadlineMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { deadlineMs: 15_000, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Runs `attempt` until it succeeds, fails with an error `shouldRetry` rejects, or the next pause
 * would pass the deadline. Pauses grow exponentially with full jitter, so many callers hitting the
 * same rate limit do not come back in step.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  policy: RetryPolicy = defaultRetryPolicy,
  random: () => number = Math.random,
): Promise<T> {
  const started = Date.now();
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** tries);
      const delay = Math.floor(random() * ceiling);
      if (!shouldRetry(error) || Date.now() - started + delay > policy.deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
