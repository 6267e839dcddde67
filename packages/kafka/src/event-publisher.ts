import { CLOUD_EVENT_CONTENT_TYPE, EventHeaders, type CloudEvent } from '@wxp/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';

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
}

export interface EventPublisherOptions {
  /** Most events in one produce request. */
  maxBatchSize?: number;
  /**
   * Most events waiting for the broker. Past it, publishing fails at once instead of queueing, so
   * a long outage cannot grow memory without bound; callers answer "retry later".
   */
  maxQueuedEvents?: number;
}

export class PublisherOverloadedError extends Error {
  override readonly name = 'PublisherOverloadedError';
}

/**
 * Publishes CloudEvents with the idempotent producer and acks from all in-sync replicas.
 *
 * Concurrent callers share produce requests: while one request is in flight, new events queue up
 * and leave together in the next one. A quiet publisher therefore adds no delay, and a busy one
 * makes one round trip per batch rather than per event. Each caller's promise settles only when the
 * broker has acknowledged (or refused) the request holding its event.
 *
 * A send that fails retires its producer. kafkajs takes back the sequence numbers of a request
 * whose answer never came, though the broker may have written it (the connection dropped as the
 * broker stopped, say), and gives them to the next events of those partitions: the broker then
 * takes those events for a retry of what it already holds, acknowledges them and drops them. A new
 * producer has a new producer id, so nothing it sends can be mistaken for the old one's.
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

  private constructor(
    private readonly kafka: Kafka,
    private producer: Producer,
    options: EventPublisherOptions,
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  }

  static async connect(kafka: Kafka, options: EventPublisherOptions = {}): Promise<EventPublisher> {
    const publisher = new EventPublisher(kafka, await EventPublisher.connectedProducer(kafka), options);
    publisher.watch(publisher.producer);
    return publisher;
  }

  private static async connectedProducer(kafka: Kafka): Promise<Producer> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
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
      this.queue.push({ items, resolve, reject });
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
    void this.sendOne().finally(() => {
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
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: toTopicMessages(batch.flatMap((p) => p.items)),
      });
      batch.forEach((p) => p.resolve());
    } catch (error) {
      this.producerFailed = true;
      batch.forEach((p) => p.reject(error as Error));
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
    const producer = await EventPublisher.connectedProducer(this.kafka);
    if (this.closing) {
      await producer.disconnect();
      return;
    }
    this.producer = producer;
    this.producerFailed = false;
    this.watch(producer);
  }
}

function toTopicMessages(items: OutgoingEvent[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { topic, key, event } of items) {
    let entry = byTopic.get(topic);
    if (!entry) {
      entry = { topic, messages: [] };
      byTopic.set(topic, entry);
    }
    entry.messages.push({
      key,
      value: JSON.stringify(event),
      headers: {
        [EventHeaders.contentType]: CLOUD_EVENT_CONTENT_TYPE,
        [EventHeaders.type]: event.type,
        [EventHeaders.id]: event.id,
      },
    });
  }
  return [...byTopic.values()];
}
