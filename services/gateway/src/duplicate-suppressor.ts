/**
 * Collapses WeChat's retries of one push: while the first publish of an event id is in flight, later
 * arrivals wait for the same outcome; after it succeeded, the id is remembered for `ttlMs` so that
 * late retries are answered without publishing again. Bounded by `maxEntries`, oldest first out.
 */
export class DuplicateSuppressor<T = void> {
  private readonly inFlight = new Map<string, Promise<T>>();
  private readonly done = new Map<string, { at: number; value: T }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `publish` unless this id is being or was recently published; reports which happened, with
   * what the first publish resolved to (a retry is answered as the first attempt was).
   */
  async run(
    id: string,
    publish: () => Promise<T>,
  ): Promise<{ outcome: 'published' | 'duplicate'; value: T }> {
    const pending = this.inFlight.get(id);
    if (pending) return { outcome: 'duplicate', value: await pending };
    const done = this.done.get(id);
    if (done !== undefined && this.now() - done.at < this.ttlMs)
      return { outcome: 'duplicate', value: done.value };

    const attempt = publish();
    this.inFlight.set(id, attempt);
    try {
      const value = await attempt;
      this.remember(id, value);
      return { outcome: 'published', value };
    } finally {
      this.inFlight.delete(id);
    }
  }

  private remember(id: string, value: T): void {
    this.done.delete(id);
    this.done.set(id, { at: this.now(), value });
    const cutoff = this.now() - this.ttlMs;
    for (const [oldest, { at }] of this.done) {
      if (this.done.size <= this.maxEntries && at >= cutoff) break;
      this.done.delete(oldest);
    }
  }
}
