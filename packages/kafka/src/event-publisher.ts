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

  private constructor(
    private readonly producer: Producer,
    options: EventPublisherOptions,
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 500;
  }

  static async connect(kafka: Kafka, options: EventPublisherOptions = {}): Promise<EventPublisher> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
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
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.sendNext();
    });
  }

  async disconnect(): Promise<void> {
    while (this.sending || this.queue.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
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
