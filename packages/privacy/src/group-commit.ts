/**
 * Joins concurrent requests into shared store round trips: a request is sent at once while fewer
 * than `maxInFlight` round trips are under way, and those arriving meanwhile go together in the
 * next. Under load a push then costs a share of one insert instead of an insert of its own; alone
 * it waits for nothing.
 */
export class GroupCommit<Item, Result> {
  private pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  /** `run` answers each item of a group, in order, or throws for the whole group. */
  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxGroup?: number; maxInFlight?: number } = {},
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
      const group = this.pending.splice(0, this.options.maxGroup ?? 500);
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
