/**
 * Collapses WeChat's retries of one push: while the first publish of an event id is in flight, later
 * arrivals wait for the same outcome; after it succeeded, the id is remembered for `ttlMs` so that
 * late retries are answered without publishing again. Bounded by `maxEntries`, oldest first out.
 */
export class DuplicateSuppressor {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly done = new Map<string, number>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `publish` unless this id is being or was recently published; reports which happened. */
  async run(id: string, publish: () => Promise<void>): Promise<'published' | 'duplicate'> {
    const pending = this.inFlight.get(id);
    if (pending) {
      await pending;
      return 'duplicate';
    }
    const doneAt = this.done.get(id);
    if (doneAt !== undefined && this.now() - doneAt < this.ttlMs) return 'duplicate';

    const attempt = publish();
    this.inFlight.set(id, attempt);
    try {
      await attempt;
      this.remember(id);
      return 'published';
    } finally {
      this.inFlight.delete(id);
    }
  }

  private remember(id: string): void {
    this.done.delete(id);
    this.done.set(id, this.now());
    const cutoff = this.now() - this.ttlMs;
    for (const [oldest, at] of this.done) {
      if (this.done.size <= this.maxEntries && at >= cutoff) break;
      this.done.delete(oldest);
    }
  }
}
