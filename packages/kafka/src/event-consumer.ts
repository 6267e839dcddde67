import {
  deadLetterTopicOf,
  eventCatalogue,
  parseEnvelope,
  schemaProblems,
  type CloudEvent,
} from '@wxp/contracts';
import {
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BatchGatherer } from './batch-gatherer';

export interface ConsumedEvent {
  topic: string;
  partition: number;
  /** The Kafka offset: increases with every event of one key, so it orders one user's events. */
  offset: number;
  key: string | null;
  event: CloudEvent;
}

export interface RetryBudget {
  /** Tries of one event before it goes to the dead-letter topic. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Errors of a commit that mean this member's generation is over: kafkajs rejoins on them. */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

export interface EventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  metrics?: Registry;
  /** Where a new group starts; an existing group resumes from its committed offsets. */
  fromBeginning?: boolean;
  /**
   * Applies decoded events of one topic: the batch of one partition, or the batches of several
   * fetched together, each partition's events in offset order. It must be idempotent: after a crash
   * the events since the last commit are delivered again, maybe grouped otherwise. Throwing retries
   * each partition's batch on its own.
   */
  handleBatch(events: ConsumedEvent[]): Promise<void>;
  retry?: Partial<RetryBudget>;
  /**
   * Failures of what the consumer depends on (the store unreachable, say) rather than of an event:
   * these retry without limit, holding the partition, instead of sending good events to the DLQ.
   */
  isOutage?(error: unknown): boolean;
  /**
   * Groups of batches applied at once (default 4). Order holds within a partition; handlers
   * keep whatever several partitions share in documents of each partition's own.
   */
  concurrentGroups?: number;
  /**
   * Batches waiting together go to one `handleBatch` call until it holds this many events (default
   * 1,000); a partition's batch is never split.
   */
  groupEvents?: number;
}

export interface RunningConsumer {
  /** Resolves once the consumer has joined its group and been given partitions to read. */
  readonly joined: Promise<void>;
  /**
   * Throws once kafkajs has given up on the consumer (an error it does not restart from, such as
   * a refused authorization): the service reads nothing more and must say so, not look healthy.
   */
  assertConsuming(): void;
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
 * MongoDB and network failures that say nothing about the event being handled. kafkajs gives up
 * with an error of its own (retries exceeded, not retriable) whose cause is the connection that
 * failed, so the causes are looked at too.
 */
export function isInfrastructureOutage(error: unknown): boolean {
  for (const current of errorAndCauses(error)) {
    const name = (current as { name?: string }).name ?? '';
    if (
      /^Mongo(Network|ServerSelection|NotConnected|Topology)/.test(name) ||
      /^KafkaJS(Connection|Request)/.test(name) ||
      // Another consumer of the partition wrote meanwhile (@wxp/mongo): read again, until it stops.
      name === 'ConcurrentWriteError'
    )
      return true;
  }
  return false;
}

/** An error and the errors it was caused by, five at most (a chain may loop). */
function* errorAndCauses(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function backoff(attempt: number, budget: RetryBudget): number {
  return Math.floor(Math.random() * Math.min(budget.maxDelayMs, budget.baseDelayMs * 2 ** attempt));
}

/**
 * Runs one consumer group over the given topics. Each batch of a partition is decoded; batches
 * waiting at the same moment are handed to `handleBatch` together (see BatchGatherer), and their
 * offsets are committed only after it succeeded. A failing batch is retried on its own with
 * backoff; if it keeps failing, its events are tried one by one so that a poison event is found,
 * and that event alone goes to `<topic>.dlq` with its origin and the error in headers. Messages that
 * are not valid events go there too. Nothing stops a partition for good but an outage of the store.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, logger, handleBatch } = options;
  const budget: RetryBudget = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000, ...options.retry };
  const isOutage = options.isOutage ?? isInfrastructureOutage;
  const log = logger.child({ component: 'consumer', groupId });
  // Several consumers of one service share its registry and so its metrics, told apart by group.
  const registry = options.metrics;
  const shared = <M>(name: string, make: (registers: Registry[]) => M): M =>
    (registry?.getSingleMetric(name) as M | undefined) ?? make(registry ? [registry] : []);
  const consumed = shared(
    'wxp_consumer_events_total',
    (registers) =>
      new Counter({
        name: 'wxp_consumer_events_total',
        help: 'Events read by the consumer, by outcome',
        labelNames: ['group', 'outcome'] as const,
        registers,
      }),
  );
  const lag = shared(
    'wxp_consumer_lag',
    (registers) =>
      new Gauge({
        name: 'wxp_consumer_lag',
        help: 'Messages between the last one handled and the end of the partition',
        labelNames: ['group', 'topic', 'partition'] as const,
        registers,
      }),
  );
  const secondsPerGroup = (name: string, help: string) =>
    shared(
      name,
      (registers) =>
        new Histogram({
          name,
          help,
          labelNames: ['group'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    );
  const batchSeconds = secondsPerGroup(
    'wxp_consumer_batch_seconds',
    'Time to handle one batch of a partition, waiting for its group included',
  );
  const applySeconds = secondsPerGroup(
    'wxp_consumer_apply_seconds',
    'Time of one call applying a group of batches, or one batch on its own',
  );
  const apply = async (events: ConsumedEvent[]) => {
    const stopTimer = applySeconds.startTimer({ group: groupId });
    try {
      await handleBatch(events);
    } finally {
      stopTimer();
    }
  };

  const deadLetters: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await deadLetters.connect();
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
    // A fetch answers as soon as there is anything to read; this only bounds how long one waits on
    // a quiet topic, which is also how long a stop waits for it (kafkajs's default is 5 s).
    maxWaitTimeInMs: 1000,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
  } catch (error) {
    // A consumer that cannot start (a topic missing, say) leaves nothing connected behind it.
    await Promise.allSettled([consumer.disconnect(), deadLetters.disconnect()]);
    throw error;
  }

  const deadLetter = async (
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    attempts: number,
  ) => {
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      'x-dlq-origin-topic': topic,
      'x-dlq-origin-partition': String(partition),
      'x-dlq-origin-offset': message.offset,
      'x-dlq-consumer-group': groupId,
      'x-dlq-error': reason.slice(0, 1000),
      'x-dlq-attempts': String(attempts),
    };
    await deadLetters.send({
      topic: deadLetterTopicOf(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    consumed.inc({ group: groupId, outcome: 'dead_lettered' });
    log.error(
      { topic, partition, offset: message.offset, reason, attempts },
      'event sent to the dead-letter topic',
    );
  };

  /** Tries `events` until they apply, the budget runs out (false), or the consumer stops. */
  const applyWithRetries = async (
    events: ConsumedEvent[],
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ) => {
    let lastError: unknown;
    for (let attempt = 0; isRunning(); attempt++) {
      try {
        await apply(events);
        return { ok: true as const };
      } catch (error) {
        lastError = error;
        const outage = isOutage(error);
        if (!outage && attempt + 1 >= budget.attempts)
          return { ok: false as const, error, attempts: attempt + 1 };
        log.warn(
          { err: error, attempt: attempt + 1, outage, events: events.length },
          'batch failed, retrying',
        );
        await sleep(backoff(Math.min(attempt, 10), budget));
        await heartbeat();
      }
    }
    throw lastError ?? new Error('consumer stopped');
  };

  type Position = { topic: string; partition: number; offset: string };
  const gatherer = new BatchGatherer<ConsumedEvent, Position>({
    apply,
    commit: (positions) => commit(positions),
    onFailure: (error, batches) =>
      log.warn(
        { err: error, batches },
        "batches applied together failed; each partition's batch is tried on its own",
      ),
    concurrentGroups: options.concurrentGroups ?? 4,
    groupEvents: options.groupEvents ?? 1000,
  });

  // kafkajs heartbeats between batches only. Batches wait for one another in the gatherer and for
  // the store: without a heartbeat meanwhile, a first fetch that takes longer than the session to
  // apply costs the member its place, its commit fails and the consumer ends for good.
  let batchesUnderWay = 0;
  let latestHeartbeat: (() => Promise<void>) | undefined;
  let membershipKeeper: NodeJS.Timeout | undefined;
  const holdMembership = (heartbeat: () => Promise<void>) => {
    batchesUnderWay += 1;
    latestHeartbeat = heartbeat;
    // A heartbeat that finds the group rebalancing is met again by the one after the batch, where
    // kafkajs rejoins; here it is only let go.
    membershipKeeper ??= setInterval(() => void latestHeartbeat?.().catch(() => undefined), 1000).unref();
  };
  const releaseMembership = () => {
    batchesUnderWay -= 1;
    if (batchesUnderWay === 0 && membershipKeeper) {
      clearInterval(membershipKeeper);
      membershipKeeper = undefined;
    }
  };

  // A commit refused because the member lost its place comes wrapped in a non-retriable error,
  // which would end the consumer for good. Thrown as the broker's own error, kafkajs rejoins the
  // group instead and the uncommitted events come again (every consumer is idempotent by event id).
  const commit = async (positions: Position[]) => {
    try {
      await consumer.commitOffsets(positions);
    } catch (error) {
      const refusal = [...errorAndCauses(error)].find((cause) =>
        MEMBERSHIP_LOST.has((cause as { type?: string }).type ?? ''),
      );
      if (refusal) {
        log.warn({ err: refusal }, 'commit refused: the member lost its place in the group; rejoining');
        throw refusal;
      }
      throw error;
    }
  };

  const eachBatch = async (payload: EachBatchPayload) => {
    if (!payload.isRunning() || payload.isStale() || payload.batch.messages.length === 0) return;
    holdMembership(payload.heartbeat);
    try {
      await applyBatch(payload);
    } finally {
      releaseMembership();
    }
  };

  const applyBatch = async ({ batch, resolveOffset, heartbeat, isRunning }: EachBatchPayload) => {
    const stopTimer = batchSeconds.startTimer({ group: groupId });
    const events: ConsumedEvent[] = [];
    const messageAt = new Map<number, KafkaMessage>();
    for (const message of batch.messages) {
      const decoded = decode(message);
      if (decoded.ok) {
        const offset = Number(message.offset);
        messageAt.set(offset, message);
        events.push({
          topic: batch.topic,
          partition: batch.partition,
          offset,
          key: message.key?.toString('utf8') ?? null,
          event: decoded.event,
        });
      } else {
        consumed.inc({ group: groupId, outcome: 'undecodable' });
        await deadLetter(batch.topic, batch.partition, message, `undecodable: ${decoded.reason}`, 0);
      }
    }
    const last = batch.messages[batch.messages.length - 1];
    const position = last && {
      topic: batch.topic,
      partition: batch.partition,
      offset: String(Number(last.offset) + 1),
    };
    const together =
      events.length > 0 && position !== undefined && (await gatherer.add(batch.topic, events, position));
    if (together) consumed.inc({ group: groupId, outcome: 'applied' }, events.length);
    else if (events.length > 0) {
      const whole = await applyWithRetries(events, heartbeat, isRunning);
      let deadLettered = 0;
      if (!whole.ok) {
        log.warn(
          { err: whole.error, events: events.length },
          'batch keeps failing; applying its events one by one',
        );
        for (const event of events) {
          const single = events.length === 1 ? whole : await applyWithRetries([event], heartbeat, isRunning);
          if (!single.ok) {
            await deadLetter(
              batch.topic,
              batch.partition,
              messageAt.get(event.offset) as KafkaMessage,
              String((single.error as Error)?.message ?? single.error),
              single.attempts,
            );
            deadLettered += 1;
          }
        }
      }
      consumed.inc({ group: groupId, outcome: 'applied' }, events.length - deadLettered);
    }
    if (last && position) {
      resolveOffset(last.offset);
      if (!together) await commit([position]);
      lag.set(
        { group: groupId, topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1),
      );
    }
    stopTimer();
    await heartbeat();
  };

  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  // Not awaited: joining can wait a whole session timeout for a crashed predecessor to be evicted,
  // and the service should answer health checks meanwhile.
  // Every batch of a fetch is taken at once (more than any of our topics has partitions), so the
  // gatherer sees them together; it bounds how many groups are applied side by side.
  const partitionsConsumedConcurrently = 64;
  let givenUp = false;
  consumer
    .run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently, eachBatch })
    .catch((error: unknown) => {
      givenUp = true;
      log.error({ err: error }, 'consumer failed to start');
    });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) givenUp = true;
    log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
  });

  return {
    joined,
    assertConsuming() {
      if (givenUp)
        throw new Error(`the consumer of ${groupId} stopped after an error it does not retry (see the log)`);
    },
    async stop() {
      await consumer.disconnect();
      await deadLetters.disconnect();
      clearInterval(membershipKeeper);
    },
  };
}
