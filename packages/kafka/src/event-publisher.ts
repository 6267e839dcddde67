import { CLOUD_EVENT_CONTENT_TYPE, EventHeaders, type CloudEvent } from '@wxp/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';

export interface OutgoingEvent {
  topic: string;
  key: string;
  event: CloudEvent;
}

interface Pending {
  item: OutgoingEvent;
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
 */
export class EventPublisher {
  private readonly queue: Pending[] = [];
  private sending = false;
  private connected = false;
  private readonly maxBatchSize: number;
  private readonly maxQueuedEvents: number;

  private constructor(
    private readonly producer: Producer,
    options: EventPublisherOptions,
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  }

  static async connect(kafka: Kafka, options: EventPublisherOptions = {}): Promise<EventPublisher> {
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
    const publisher = new EventPublisher(producer, options);
    publisher.connected = true;
    producer.on(producer.events.DISCONNECT, () => {
      publisher.connected = false;
    });
    return publisher;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get queuedEvents(): number {
    return this.queue.length;
  }

  publish(item: OutgoingEvent): Promise<void> {
    if (this.queue.length >= this.maxQueuedEvents) {
      return Promise.reject(
        new PublisherOverloadedError(`${this.queue.length} events already wait for the broker`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    for (const pending of this.queue.splice(0)) pending.reject(new Error('publisher is shutting down'));
    await this.producer.disconnect();
    this.connected = false;
  }

  private sendNext(): void {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    const batch = this.queue.splice(0, this.maxBatchSize);
    this.producer
      .sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: toTopicMessages(batch.map((p) => p.item)),
      })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (error: Error) => batch.forEach((p) => p.reject(error)),
      )
      .finally(() => {
        this.sending = false;
        this.sendNext();
      });
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
