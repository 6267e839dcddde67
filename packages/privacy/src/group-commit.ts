/**
 * Joins concurrent requests into shared store round trips: a request is sent at once while fewer
 * than `maxInFlight` round trips are under way, and those arriving meanwhile go together in the
 * next. Under load a push then costs a share of one insert instead of an insert of its own; alone
 * it waits for nothing.
 *
 * With `lingerMs`, a round trip that follows one carrying several requests first waits that long,
 * so that more requests share it: under load each round trip's fixed cost (the driver's encoding,
 * its promises, a wake-up of the store) is spread over more of them. A quiet store, whose round
 * trips carry one request each, is never made to wait.
 */
export class GroupCommit<Item, Result> {
  private pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private lastGroupSize = 0;

  /** `run` answers each item of a group, in order, or throws for the whole group. */
  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxGroup?: number; maxInFlight?: number; lingerMs?: number } = {},
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.inFlight < (this.options.maxInFlight ?? 1)) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight += 1;
    while (this.pending.length > 0) {
      const linger = this.options.lingerMs ?? 0;
      if (linger > 0 && this.lastGroupSize > 1) await new Promise((resolve) => setTimeout(resolve, linger));
      const group = this.pending.splice(0, this.options.maxGroup ?? 500);
      // Another round trip may have taken them all while this one lingered.
      if (group.length === 0) break;
      this.lastGroupSize = group.length;
      try {
        const results = await this.run(group.map((entry) => entry.item));
        group.forEach((entry, index) => entry.resolve(results[index]!));
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.inFlight -= 1;
  }
}
