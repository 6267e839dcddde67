import type { Account } from '@wxp/accounts';
import { ReadModels, Topics, deadLetterTopicOf, userKey } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import pino from 'pino';
import { pseudonymOf } from '@wxp/privacy';
import { MongoClient } from 'mongodb';
import { BENCH_PRIVACY_KEY, startPushPipeline } from '../push-pipeline';
import type { PhaseContext } from '../phase-context';
import { withConcurrency } from '../push-sender';
import type { RunningService } from '../services';
import { storedEvents } from '../topic-census';

export interface FaultCensus {
  /**
   * Users WeChat was told "success" for who are not following in the read model, or of whom the
   * topic holds no event (so a census that cannot see the topic counts everyone as lost).
   */
  lost: number;
  /** Of the lost, those with no event on the topic: acknowledged but never stored. */
  absentFromTopic: number;
  /** Follows the read model counted beyond one per user. */
  doubledInReadModel: number;
  /** Event ids stored on the topic more than once (consumers collapse these; counted for the record). */
  storedTwice: number;
  /** Events of refused pushes that reached the topic. */
  refusedButStored: number;
}

/**
 * The gateway and the subscriber projection as their own processes, for one fault: the projection
 * starts at the end of the topic in a database of the fault's own, and at the end the read model
 * and the topic are checked against what the senders were told.
 */
export class FaultRig {
  private constructor(
    private readonly context: PhaseContext,
    private readonly account: Account,
    private readonly mongoUrl: string,
    readonly gateway: RunningService,
    readonly projection: RunningService,
    private readonly name: string,
    private readonly projectionGroup: string,
  ) {}

  static async start(context: PhaseContext, account: Account, name: string): Promise<FaultRig> {
    const { gateway, projection, mongoUrl, projectionGroup } = await startPushPipeline(context, name);
    return new FaultRig(context, account, mongoUrl, gateway, projection, name, projectionGroup);
  }

  /**
   * Waits until the read model shows every acknowledged follower (or the time is up), then counts;
   * `refused` are the openIds of pushes the gateway refused, none of whose events may be stored.
   */
  async census(acknowledged: readonly string[], refused: readonly string[] = []): Promise<FaultCensus> {
    const client = new MongoClient(this.mongoUrl);
    await client.connect();
    try {
      const subscribers = client.db().collection<{ _id: string; state?: string }>(ReadModels.subscribers);
      const missing = new Set(acknowledged);
      const deadline = Date.now() + 120_000;
      let nextReport = Date.now() + 10_000;
      while (missing.size > 0 && Date.now() < deadline) {
        if (Date.now() >= nextReport) {
          this.context.log(
            `${this.name}: ${missing.size} of ${acknowledged.length} acknowledged followers not in the read model yet`,
          );
          nextReport += 10_000;
        }
        const pass = [...missing];
        await withConcurrency(16, pass.length, async (i) => {
          const openId = pass[i];
          if (openId === undefined) return;
          const found = await subscribers.findOne({
            _id: userKey(BENCH_PRIVACY_KEY, this.account.appId, openId),
          });
          if (found?.state === 'following') missing.delete(openId);
        });
        if (missing.size > 0) await new Promise((r) => setTimeout(r, 1000));
      }
      const counts = await client
        .db()
        .collection<{ appId: string; follows: number }>(ReadModels.followerCounts)
        .find({ appId: this.account.appId })
        .toArray();
      const follows = counts.reduce((sum, c) => sum + (c.follows ?? 0), 0);
      this.context.log(`${this.name}: reading the topic for events stored twice`);
      const pseudonym = (openId: string) => pseudonymOf(BENCH_PRIVACY_KEY, this.account.appId, openId);
      const pseudonyms = (openIds: readonly string[]) => new Set(openIds.map(pseudonym));
      const stored = await storedEvents(this.context.stack.brokers, pseudonyms(acknowledged));
      const storedRefused =
        refused.length > 0
          ? (await storedEvents(this.context.stack.brokers, pseudonyms(refused))).copies.size
          : 0;
      const lostOpenIds = [...new Set(acknowledged)].filter(
        (openId) => missing.has(openId) || !stored.subjectsFound.has(pseudonym(openId)),
      );
      if (lostOpenIds.length > 0) await this.explainLost(lostOpenIds.map(pseudonym), stored.subjectsFound);
      return {
        lost: new Set(
          acknowledged.filter(
            (openId) => missing.has(openId) || !stored.subjectsFound.has(pseudonym(openId)),
          ),
        ).size,
        doubledInReadModel: Math.max(0, follows - new Set(acknowledged).size),
        absentFromTopic: new Set(
          acknowledged.filter((openId) => !stored.subjectsFound.has(pseudonym(openId))),
        ).size,
        storedTwice: [...stored.copies.values()].filter((n) => n > 1).length,
        refusedButStored: storedRefused,
      };
    } finally {
      await client.close();
    }
  }

  /** Where the lost ones are: on the topic (which partition, how far the projection's group got) or not. */
  private async explainLost(
    pseudonyms: string[],
    found: Map<string, { partition: number; offset: string }>,
  ): Promise<void> {
    const places = pseudonyms.map((p) => found.get(p));
    this.context.log(
      `${this.name}: lost ${pseudonyms.length}: on the topic at ${places
        .map((p) => (p ? `${p.partition}@${p.offset}` : 'nowhere'))
        .join(', ')}`,
    );
    const admin = createKafka({
      brokers: this.context.stack.brokers,
      clientId: 'bench-census',
      logger: pino({ level: 'silent' }),
    }).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(Topics.events);
      const [committed] = await admin.fetchOffsets({
        groupId: this.projectionGroup,
        topics: [Topics.events],
      });
      const lagging = (committed?.partitions ?? [])
        .map((c) => ({ ...c, high: ends.find((e) => e.partition === c.partition)?.high }))
        .filter((c) => c.offset !== c.high);
      this.context.log(
        `${this.name}: projection group's committed offsets short of the end: ${
          lagging.map((c) => `${c.partition}: ${c.offset} of ${c.high}`).join(', ') || 'none'
        }`,
      );
      const dlq = await admin.fetchTopicOffsets(deadLetterTopicOf(Topics.events)).catch(() => []);
      this.context.log(
        `${this.name}: dead letters on ${deadLetterTopicOf(Topics.events)}: ${dlq.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)}`,
      );
    } finally {
      await admin.disconnect();
    }
  }

  async stop(load: string): Promise<void> {
    this.context.memory.record('gateway', load, this.gateway.peakRssMb());
    this.context.memory.record('subscriber-projection', load, this.projection.peakRssMb());
    await this.gateway.stop();
    await this.projection.stop();
  }
}
