import type { CloudEvent } from '@wxp/contracts';
import type { EventOpener } from '@wxp/privacy';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { eventually, kafkaBrokers, uniqueName } from './infrastructure';

export interface ReadEvent {
  key: string;
  partition: number;
  /** The message's headers, as text. */
  headers: Record<string, string>;
  /** Opened (personal fields in clear) when the reader was given an opener; as stored otherwise. */
  event: CloudEvent<string, Record<string, unknown>>;
  /** The event as the topic holds it. */
  stored: CloudEvent<string, Record<string, unknown>>;
  /** With an opener: whether the user's key was gone when the event was read. */
  erased?: boolean;
}

/** Reads a topic from the start with a group of its own, keeping every event it sees. */
export class TopicReader {
  readonly events: ReadEvent[] = [];
  /** The offset of the last message read, per partition. */
  private readonly lastRead = new Map<number, number>();
  private constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly consumer: Consumer,
  ) {}

  /** With `opener`, events are opened as a consumer service opens them. */
  static async start(
    topic: string,
    brokers = kafkaBrokers(),
    options: { opener?: EventOpener } = {},
  ): Promise<TopicReader> {
    const kafka = new Kafka({ brokers, clientId: 'topic-reader', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: uniqueName('reader'),
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    const reader = new TopicReader(kafka, topic, consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    // A batch at a time: an opener reads the keys of a whole batch at once. Opened one by one, a
    // topic of a few thousand events from the run's other suites took longer to read than the tests
    // waited for the newest.
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const stored = batch.messages.map(
          (message) => JSON.parse(message.value?.toString() ?? 'null') as ReadEvent['event'],
        );
        const opened = options.opener ? await options.opener.open(stored) : undefined;
        batch.messages.forEach((message, n) => {
          reader.events.push({
            key: message.key?.toString() ?? '',
            partition: batch.partition,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value ?? '')]),
            ),
            event: (opened?.[n]?.event ?? stored[n]) as ReadEvent['event'],
            stored: stored[n]!,
            ...(opened ? { erased: opened[n]!.erased } : {}),
          });
          reader.lastRead.set(batch.partition, Number(message.offset));
          resolveOffset(message.offset);
        });
        await heartbeat();
      },
    });
    await joined;
    return reader;
  }

  of(appId: string): ReadEvent[] {
    return this.events.filter((e) => e.event.source === `/wechat/${appId}`);
  }

  /** Waits until at least one event of the account's user (by subject) has been read, and returns them. */
  landed(appId: string, subject: string, timeoutMs = 15_000): Promise<ReadEvent[]> {
    return eventually(async () => {
      const found = this.of(appId).filter((e) => e.event.subject === subject);
      if (found.length === 0) throw new Error(`no event of ${subject} on ${this.topic} yet`);
      return found;
    }, timeoutMs);
  }

  /** Resolves once everything the topic holds now has been read: what is absent then was never written. */
  async readToEnd(timeoutMs = 30_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    await eventually(
      async () => {
        for (const { partition, low, high } of ends) {
          const read = this.lastRead.get(partition) ?? Number(low) - 1;
          if (read < Number(high) - 1)
            throw new Error(
              `${this.topic}[${partition}]: read up to ${read}, the end is ${Number(high) - 1}`,
            );
        }
      },
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
