import { randomUUID } from 'node:crypto';
import { Topics, parseEnvelope, schemaProblems, type AdminEvent } from '@wxp/contracts';
import { topicOffsets, type Kafka } from '@wxp/kafka';
import { ReplyRulesBook, type ReplyRules } from '@wxp/reply-rules';
import type { Logger } from '@wxp/service-runtime';
import type { Consumer } from 'kafkajs';

/** What the push endpoint needs of the reply rules. */
export interface ReplyRulesSource {
  rulesOf(appId: string): ReplyRules | undefined;
  /** Whether every rule written before this instance started has been read. */
  isReady(): boolean;
  /**
   * Whether changes still come in: false once the Kafka client has given the feed up, when this
   * instance would answer with the rules of that moment for ever.
   */
  isFollowing?(): boolean;
}

/**
 * The reply rules of every account, read by this gateway instance from wechat.admin.v1: from the
 * beginning, in a group of its own (every instance reads everything and commits nothing), then
 * tailing the topic with a short fetch wait so that a change is in force within a second. Ready
 * once it has read up to where the topic ended when it started.
 */
export class ReplyRulesFeed implements ReplyRulesSource {
  private readonly book = new ReplyRulesBook();
  private readonly pending = new Map<number, number>();
  private ready = false;
  private givenUp = false;
  private readonly readyWaiters: (() => void)[] = [];

  private constructor(
    private readonly consumer: Consumer,
    private readonly logger: Logger,
  ) {}

  static async start(kafka: Kafka, logger: Logger): Promise<ReplyRulesFeed> {
    const log = logger.child({ component: 'reply-rules' });
    const consumer = kafka.consumer({
      groupId: `gateway-reply-rules-${randomUUID()}`,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    const feed = new ReplyRulesFeed(consumer, log);
    const { low, high } = await topicOffsets(kafka, Topics.admin);
    for (const [partition, end] of high)
      if (end > (low.get(partition) ?? 0)) feed.pending.set(partition, end);
    feed.settleIfCaughtUp();
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) feed.givenUp = true;
      log.error({ err: event.payload.error, restart: event.payload.restart }, 'reply rules feed crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.admin, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        feed.read(message.value);
        const end = feed.pending.get(partition);
        if (end !== undefined && Number(message.offset) + 1 >= end) {
          feed.pending.delete(partition);
          feed.settleIfCaughtUp();
        }
      },
    });
    return feed;
  }

  private read(value: Buffer | null): void {
    if (!value) return;
    try {
      const event = parseEnvelope(value) as AdminEvent;
      if (event.type !== 'wechat.admin.reply_rules.set') return;
      const problems = schemaProblems(event.type, event.data);
      if (problems.length > 0) {
        this.logger.warn(
          { eventId: event.id, problems },
          'reply rules event does not match its schema: ignored',
        );
        return;
      }
      this.book.apply(event);
    } catch (error) {
      this.logger.warn({ err: error }, 'unreadable message on the admin topic: ignored');
    }
  }

  private settleIfCaughtUp(): void {
    if (this.ready || this.pending.size > 0) return;
    this.ready = true;
    this.logger.info('reply rules read up to the end of the admin topic');
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  rulesOf(appId: string): ReplyRules | undefined {
    return this.book.rulesOf(appId);
  }

  isReady(): boolean {
    return this.ready;
  }

  isFollowing(): boolean {
    return !this.givenUp;
  }

  /** Resolves once the rules written before the start have been read. */
  caughtUp(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
