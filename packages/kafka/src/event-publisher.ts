import { CLOUD_EVENT_CONTENT_TYPE, EventHeaders, type CloudEvent } from '@wxp/contracts';
import {
  CompressionTypes,
  Partitioners,
  type ICustomPartitioner,
  type Kafka,
  type Message,
  type Producer,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';

export interface OutgoingEvent {
  topic: string;
  key: string;
  event: CloudEvent;
}

interface Pending {
  /** Events that leave in the same produce request: one caller's, never split. */
  items: readonly OutgoingEvent[];
  resolve: () => void;
  reject: (error: Error) => void;
  /** Sends the broker answered without these events' partitions (see sendOne). */
  silentDrops: number;
}

/** How often a caller's events may go unacknowledged in a send that "succeeded" before it is failed. */
const MAX_SILENT_DROPS = 3;

export class EventsNotAcknowledgedError extends Error {
  override readonly name = 'EventsNotAcknowledgedError';
}

export interface EventPublisherOptions {
  /** Most events in one produce request. */
  maxBatchSize?: number;
  /**
   * Most events waiting for the broker. Past it, publishing fails at once instead of queueing, so
   * a long outage cannot grow memory without bound; callers answer "retry later".
   */
  maxQueuedEvents?: number;
  /**
   * How long a request that follows one shared by several callers waits for more (default 1 ms).
   * Under load each request then carries more events and its fixed cost (encoding, the round trip's
   * promises and wake-ups) is spread wider; a quiet publisher, whose requests carry one caller
   * each, never waits. 0 sends at once always.
   */
  lingerMs?: number;
}

export class PublisherOverloadedError extends Error {
  override readonly name = 'PublisherOverloadedError';
}

/**
 * Publishes CloudEvents with the idempotent producer and acks from all in-sync replicas.
 *
 * Concurrent callers share produce requests: while one request is in flight, new events queue up
 * and leave together in the next one, after a linger of a millisecond when the last request was
 * shared. A quiet publisher therefore adds no delay, and a busy one makes one round trip per batch
 * rather than per event. Each caller's promise settles only when the
 * broker has acknowledged (or refused) the request holding its event.
 *
 * A send that fails retires its producer. kafkajs takes back the sequence numbers of a request
 * whose answer never came, though the broker may have written it (the connection dropped as the
 * broker stopped, say), and gives them to the next events of those partitions: the broker then
 * takes those events for a retry of what it already holds, acknowledges them and drops them. A new
 * producer has a new producer id, so nothing it sends can be mistaken for the old one's.
 *
 * A send that resolves is checked against its answer: every partition the callers' events went to
 * must be in it (kafkajs can resolve a send that left some out when a leader moved mid-send, on a
 * cluster); callers whose events were left out wait for a later send that covers them.
 */
export class EventPublisher {
  private readonly queue: Pending[] = [];
  private queuedCount = 0;
  private sending = false;
  private connected = false;
  private closing = false;
  private producerFailed = false;
  private readonly maxBatchSize: number;
  private readonly maxQueuedEvents: number;
  private readonly lingerMs: number;
  /** Callers whose events the last produce request carried. */
  private lastBatchCallers = 0;
  /** The partition kafkajs last chose for each message it was given: what the answer must cover. */
  private readonly partitionOf: WeakMap<Message, number>;

  private constructor(
    private readonly kafka: Kafka,
    private producer: Producer,
    options: EventPublisherOptions,
    partitionOf: WeakMap<Message, number>,
  ) {
    this.partitionOf = partitionOf;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
    this.lingerMs = options.lingerMs ?? 1;
  }

  static async connect(kafka: Kafka, options: EventPublisherOptions = {}): Promise<EventPublisher> {
    const partitionOf = new WeakMap<Message, number>();
    const publisher = new EventPublisher(
      kafka,
      await EventPublisher.connectedProducer(kafka, partitionOf),
      options,
      partitionOf,
    );
    publisher.watch(publisher.producer);
    return publisher;
  }

  private static async connectedProducer(
    kafka: Kafka,
    partitionOf: WeakMap<Message, number>,
  ): Promise<Producer> {
    // Kafka's own partitioner (murmur2 of the key), noting where each message went.
    const recording: ICustomPartitioner = () => {
      const choose = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = choose(args);
        partitionOf.set(args.message, partition);
        return partition;
      };
    };
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: recording,
      // An idempotent producer keeps retrying a request until the broker takes it, so that a
      // request is never half-abandoned; callers bound their own wait instead.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    return producer;
  }

  private watch(producer: Producer): void {
    this.connected = true;
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get queuedEvents(): number {
    return this.queuedCount;
  }

  publish(item: OutgoingEvent): Promise<void> {
    return this.publishTogether([item]);
  }

  /**
   * Publishes events in one produce request, whatever else is waiting: an answer that needs several
   * acknowledged waits for one round trip, not one per event. Events of one key share a partition
   * and so one record batch, which the broker appends whole or not at all.
   */
  publishTogether(items: readonly OutgoingEvent[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    if (this.queuedCount >= this.maxQueuedEvents) {
      return Promise.reject(
        new PublisherOverloadedError(`${this.queuedCount} events already wait for the broker`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject, silentDrops: 0 });
      this.queuedCount += items.length;
      this.sendNext();
    });
  }

  /**
   * Waits up to `graceMs` for queued events to be acknowledged, fails the ones still waiting
   * (their callers have not answered success, so nothing acknowledged is dropped), disconnects.
   */
  async disconnect(graceMs = 10_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.sending || this.queue.length > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.closing = true;
    this.queuedCount = 0;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('publisher is shutting down'));
    await this.producer.disconnect();
    this.connected = false;
  }

  private sendNext(): void {
    if (this.sending || this.queue.length === 0 || this.closing) return;
    this.sending = true;
    const sending =
      this.lingerMs > 0 && this.lastBatchCallers > 1
        ? new Promise<void>((resolve) => setTimeout(resolve, this.lingerMs)).then(() => this.sendOne())
        : this.sendOne();
    void sending.finally(() => {
      this.sending = false;
      this.sendNext();
    });
  }

  private async sendOne(): Promise<void> {
    if (this.producerFailed) {
      try {
        await this.replaceProducer();
      } catch {
        // The broker is still away: the events wait in the queue, their callers' timeouts run.
        await new Promise((resolve) => setTimeout(resolve, 500));
        return;
      }
    }
    const batch = this.takeBatch();
    // A shutdown may have failed every waiting caller while this send lingered.
    if (batch.length === 0) return;
    this.lastBatchCallers = batch.length;
    const messages = batch.map((p) =>
      p.items.map((item) => ({ topic: item.topic, message: toMessage(item) })),
    );
    let written: RecordMetadata[];
    try {
      written = await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: byTopic(messages.flat()),
      });
    } catch (error) {
      this.producerFailed = true;
      batch.forEach((p) => p.reject(error as Error));
      return;
    }
    // kafkajs sends one request per partition leader and, retrying, skips the leaders that have
    // answered; when a partition's leadership moves to one of those mid-send, its events are never
    // sent, yet the send resolves. The answer then lacks that partition: those callers' events go
    // again, with a new producer, and are not acknowledged until a send covers them.
    const answered = new Set(written.map((r) => `${r.topicName}\n${r.partition}`));
    const unanswered: Pending[] = [];
    batch.forEach((pending, i) => {
      const covered = messages[i]!.every(({ topic, message }) => {
        const partition = this.partitionOf.get(message);
        return partition !== undefined && answered.has(`${topic}\n${partition}`);
      });
      if (covered) pending.resolve();
      else if (++pending.silentDrops >= MAX_SILENT_DROPS)
        pending.reject(new EventsNotAcknowledgedError('the broker never acknowledged these events'));
      else unanswered.push(pending);
    });
    if (unanswered.length > 0) {
      this.producerFailed = true;
      this.queue.unshift(...unanswered);
      this.queuedCount += unanswered.reduce((n, p) => n + p.items.length, 0);
    }
  }

  /** The callers whose events fill the next request: at least one, whole, up to maxBatchSize events. */
  private takeBatch(): Pending[] {
    let taken = 0;
    let count = 0;
    while (taken < this.queue.length) {
      const size = this.queue[taken]!.items.length;
      if (taken > 0 && count + size > this.maxBatchSize) break;
      count += size;
      taken += 1;
    }
    this.queuedCount -= count;
    return this.queue.splice(0, taken);
  }

  private async replaceProducer(): Promise<void> {
    const retired = this.producer;
    await retired.disconnect().catch(() => undefined);
    const producer = await EventPublisher.connectedProducer(this.kafka, this.partitionOf);
    if (this.closing) {
      await producer.disconnect();
      return;
    }
    this.producer = producer;
    this.producerFailed = false;
    this.watch(producer);
  }
}

function toMessage({ key, event }: OutgoingEvent): Message {
  return {
    key,
    value: JSON.stringify(event),
    headers: {
      [EventHeaders.contentType]: CLOUD_EVENT_CONTENT_TYPE,
      [EventHeaders.type]: event.type,
      [EventHeaders.id]: event.id,
    },
  };
}

function byTopic(messages: { topic: string; message: Message }[]): TopicMessages[] {
  const topics = new Map<string, TopicMessages>();
  for (const { topic, message } of messages) {
    let entry = topics.get(topic);
    if (!entry) {
      entry = { topic, messages: [] };
      topics.set(topic, entry);
    }
    entry.messages.push(message);
  }
  return [...topics.values()];
}
