import { parseEnvelope, schemaProblems, eventCatalogue, type CloudEvent } from '@wxp/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export interface ConsumedEvent {
  topic: string;
  partition: number;
  /** The Kafka offset: increases with every event of one key, so it orders one user's events. */
  offset: number;
  key: string | null;
  event: CloudEvent;
}

export interface EventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  metrics?: Registry;
  /** Where a new group starts; an existing group resumes from its committed offsets. */
  fromBeginning?: boolean;
  /**
   * Applies a batch of decoded events of one partition, in offset order. It must be idempotent: after
   * a crash the events since the last commit are delivered again. Throwing retries the batch.
   */
  handleBatch(events: ConsumedEvent[]): Promise<void>;
}

export interface RunningConsumer {
  /** Resolves once the consumer has joined its group and been given partitions to read. */
  readonly joined: Promise<void>;
  stop(): Promise<void>;
}

type Decoded = { ok: true; event: CloudEvent } | { ok: false; reason: string };

function decode(message: KafkaMessage): Decoded {
  if (!message.value) return { ok: false, reason: 'empty value' };
  try {
    const event = parseEnvelope(message.value);
    if (eventCatalogue.has(event.type)) {
      const problems = schemaProblems(event.type, event.data);
      if (problems.length > 0) return { ok: false, reason: `schema: ${problems.join('; ')}` };
    }
    return { ok: true, event };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * Runs one consumer group over the given topics. Each batch is decoded, handed to `handleBatch`
 * and committed only after it succeeded. Messages that are not valid events are counted and logged
 * with their position (they stay on the topic); they never stop the partition.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, logger, handleBatch } = options;
  const log = logger.child({ component: 'consumer', groupId });
  const consumed = new Counter({
    name: 'wxp_consumer_events_total',
    help: 'Events read by the consumer, by outcome',
    labelNames: ['group', 'outcome'] as const,
    registers: options.metrics ? [options.metrics] : [],
  });

  const consumer: Consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // A crashed member holds its partitions until this runs out; batches take far less.
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    // How long a rebalance waits for members to rejoin: a member that died without leaving holds
    // every partition of the group still for this long (kafkajs's default is a minute).
    rebalanceTimeout: 15000,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const events: ConsumedEvent[] = [];
    for (const message of batch.messages) {
      const decoded = decode(message);
      if (decoded.ok) {
        events.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(message.offset),
          key: message.key ? message.key.toString('utf8') : null,
          event: decoded.event,
        });
      } else {
        consumed.inc({ group: groupId, outcome: 'undecodable' });
        log.warn(
          { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: decoded.reason },
          'skipped a message that is not a valid event',
        );
      }
    }
    if (events.length > 0) await handleBatch(events);
    consumed.inc({ group: groupId, outcome: 'applied' }, events.length);
    const last = batch.messages[batch.messages.length - 1];
    if (last) {
      resolveOffset(last.offset);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) },
      ]);
    }
    await heartbeat();
  };

  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  // Not awaited: joining can wait a whole session timeout for a crashed predecessor to be evicted,
  // and the service should answer health checks meanwhile.
  consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch }).catch((error: unknown) => {
    log.error({ err: error }, 'consumer failed to start');
  });
  consumer.on(consumer.events.CRASH, (event) => {
    log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
  });

  return {
    joined,
    async stop() {
      await consumer.disconnect();
    },
  };
}
