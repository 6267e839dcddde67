import type { CloudEvent } from '@wxp/contracts';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { kafkaBrokers, uniqueName } from './infrastructure';

export interface ReadEvent {
  key: string;
  partition: number;
  event: CloudEvent<string, Record<string, unknown>>;
}

/** Reads a topic from the start with a group of its own, keeping every event it sees. */
export class TopicReader {
  readonly events: ReadEvent[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(topic: string, brokers = kafkaBrokers()): Promise<TopicReader> {
    const kafka = new Kafka({ brokers, clientId: 'topic-reader', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: uniqueName('reader'),
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    const reader = new TopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        reader.events.push({
          key: message.key?.toString() ?? '',
          partition,
          event: JSON.parse(message.value?.toString() ?? 'null') as ReadEvent['event'],
        });
      },
    });
    await joined;
    return reader;
  }

  of(appId: string): ReadEvent[] {
    return this.events.filter((e) => e.event.source === `/wechat/${appId}`);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
