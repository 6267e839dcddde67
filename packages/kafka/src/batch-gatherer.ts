export interface BatchGathererOptions<E, C> {
  /** Applies the events of one group: one topic, whole partition batches, each in order. */
  apply(events: E[]): Promise<void>;
  /** Commits the positions of every batch of a group once it applied. */
  commit(positions: C[]): Promise<void>;
  /** Told when a group failed; its batches are then the callers' to apply one by one. */
  onFailure(error: unknown, batches: number): void;
  /** Groups being applied at once. */
  concurrentGroups: number;
  /** A group takes batches until it holds this many events; a batch is never split. */
  groupEvents: number;
}

interface WaitingBatch<E, C> {
  events: E[];
  position: C;
  settle(appliedTogether: boolean): void;
}

/**
 * Gathers the batches of the partitions of one topic that are waiting at the same moment and
 * applies them in groups, with one commit per group. Live traffic spreads over every partition, so
 * a fetch brings a few events per partition: applied one partition at a time, each few paid the
 * store's round trips and an offset commit of their own, and queued behind the others. A catch-up
 * brings large batches instead, which make groups of their own, several in flight at once.
 *
 * The caller must not hand over a partition's next batch before its previous one settled (kafkajs
 * does not), so the groups in flight never share a partition and each partition stays in order.
 */
export class BatchGatherer<E, C> {
  private readonly waiting = new Map<string, WaitingBatch<E, C>[]>();
  private inFlight = 0;
  private launchScheduled = false;

  constructor(private readonly options: BatchGathererOptions<E, C>) {
    if (!(options.concurrentGroups >= 1)) throw new RangeError('concurrentGroups must be at least 1');
    if (!(options.groupEvents >= 1)) throw new RangeError('groupEvents must be at least 1');
  }

  /**
   * Resolves true once the batch was applied and its position committed in a group; false when its
   * group failed, and the caller applies and commits the batch on its own. Never rejects.
   */
  add(topic: string, events: E[], position: C): Promise<boolean> {
    return new Promise((settle) => {
      const list = this.waiting.get(topic);
      if (list) list.push({ events, position, settle });
      else this.waiting.set(topic, [{ events, position, settle }]);
      this.scheduleLaunch();
    });
  }

  /** Groups being applied now. */
  get groupsInFlight(): number {
    return this.inFlight;
  }

  private scheduleLaunch(): void {
    if (this.launchScheduled) return;
    this.launchScheduled = true;
    // The batches of one fetch are handed over one after another in the same turn: let them join.
    setImmediate(() => {
      this.launchScheduled = false;
      this.launch();
    });
  }

  private launch(): void {
    while (this.inFlight < this.options.concurrentGroups) {
      const group = this.takeGroup();
      if (!group) return;
      this.inFlight += 1;
      void this.run(group).finally(() => {
        this.inFlight -= 1;
        this.launch();
      });
    }
  }

  private takeGroup(): WaitingBatch<E, C>[] | undefined {
    for (const [topic, list] of this.waiting) {
      const group: WaitingBatch<E, C>[] = [];
      let events = 0;
      while (list.length > 0 && (group.length === 0 || events < this.options.groupEvents)) {
        const next = list[0] as WaitingBatch<E, C>;
        if (group.length > 0 && events + next.events.length > this.options.groupEvents) break;
        list.shift();
        group.push(next);
        events += next.events.length;
      }
      if (list.length === 0) this.waiting.delete(topic);
      if (group.length > 0) return group;
    }
    return undefined;
  }

  private async run(group: WaitingBatch<E, C>[]): Promise<void> {
    let together = false;
    try {
      const [first] = group;
      await this.options.apply(group.length === 1 && first ? first.events : group.flatMap((b) => b.events));
      await this.options.commit(group.map((b) => b.position));
      together = true;
    } catch (error) {
      this.options.onFailure(error, group.length);
    }
    for (const batch of group) batch.settle(together);
  }
}
