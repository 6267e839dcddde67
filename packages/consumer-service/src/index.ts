import { Topics } from '@wxp/contracts';
import {
  createKafka,
  startEventConsumer,
  type ConsumedEvent,
  type Kafka,
  type RunningConsumer,
  readKafkaSecurity,
} from '@wxp/kafka';
import { activeCollections, connectMongo, type MongoConnection } from '@wxp/mongo';
import { DataKeyStore, EventOpener, NO_DATA_KEYS } from '@wxp/privacy';
import {
  brokerList,
  ConfigError,
  readOrGather,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  loadConfig,
  mongoUrl,
  num,
  port,
  serveBackgroundService,
  str,
  surviveHangup,
  type Logger,
  type Registry,
} from '@wxp/service-runtime';
import type { Db } from 'mongodb';

/**
 * A consumed event opened: personal fields in clear, or `erased` when the user's data key is gone
 * (normal after an unfollow or an erasure request: never retried, never dead-lettered).
 */
export type OpenedConsumedEvent = ConsumedEvent & { erased: boolean };

/**
 * Wraps a behaviour's handler so that it gets opened events: one key read per batch for the keys
 * the process does not hold. Services and tests start consumers through it.
 */
export function openingHandler(
  handler: (events: OpenedConsumedEvent[]) => Promise<void>,
  opener: EventOpener,
): (events: ConsumedEvent[]) => Promise<void> {
  return async (events) => {
    const opened = await opener.open(events.map((e) => e.event));
    await handler(events.map((e, n) => ({ ...e, event: opened[n]!.event, erased: opened[n]!.erased })));
  };
}

/** What makes one consumer of a service: what it reads, its collections' indexes, how it applies a batch. */
export interface ConsumerBehaviour {
  /** Default wechat.events.v1. */
  topic?: string;
  /** Where a new group starts: the beginning (read models) or the end (side effects). Default: beginning. */
  fromBeginning?: boolean;
  /** Appended to the service's group when a service runs more than one consumer. */
  groupSuffix?: string;
  /**
   * false: each partition's batch gets a handler call of its own (up to four at once) instead of
   * sharing one with the other partitions' batches. For behaviours that make a slow call per event
   * (WeChat's API): the calls of different partitions then overlap rather than queue in one group,
   * and one user's reply does not wait for every other partition's. Default true.
   */
  batchesTogether?: boolean;
  /**
   * false: the behaviour reads no personal field, only pseudonyms, types and clear fields. Its
   * events are then opened without any user's data key (every user reads as erased), which spares
   * the store a read of every batch's keys. Default true.
   */
  readsPersonalData?: boolean;
  prepare(db: Db): Promise<void>;
  handler(db: Db): (events: OpenedConsumedEvent[]) => Promise<void>;
}

/**
 * A behaviour whose collections follow the service's read-model pointer: every batch looks the
 * names up, so when a replay points at fresh collections, the next batch writes there.
 */
export function pointedBehaviour<N extends Record<string, string>>(
  service: string,
  defaults: N,
  build: (collections: N) => ConsumerBehaviour,
): ConsumerBehaviour {
  const shape = build(defaults);
  return {
    ...(shape.topic === undefined ? {} : { topic: shape.topic }),
    ...(shape.fromBeginning === undefined ? {} : { fromBeginning: shape.fromBeginning }),
    ...(shape.groupSuffix === undefined ? {} : { groupSuffix: shape.groupSuffix }),
    ...(shape.batchesTogether === undefined ? {} : { batchesTogether: shape.batchesTogether }),
    ...(shape.readsPersonalData === undefined ? {} : { readsPersonalData: shape.readsPersonalData }),
    prepare: async (db) => build(await activeCollections(db, service, defaults)).prepare(db),
    handler(db) {
      const handlers = new Map<string, (events: OpenedConsumedEvent[]) => Promise<void>>();
      return async (events) => {
        const names = await activeCollections(db, service, defaults);
        const key = JSON.stringify(names);
        let handler = handlers.get(key);
        if (!handler) {
          handler = build(names).handler(db);
          handlers.set(key, handler);
        }
        await handler(events);
      };
    },
  };
}

/** What a service's behaviours are built from, once the store is connected. */
export interface ServiceContext {
  readonly privacyKey: string;
  /** Users' data keys: for behaviours that seal what they write or erase users. */
  readonly keys: DataKeyStore;
  db: Db;
  kafka: Kafka;
  logger: Logger;
  /** Run on stop, after the consumers have left their groups (publishers, say). */
  onStop(close: () => Promise<void>): void;
}

export interface ProjectionConsumerOptions {
  kafka: Kafka;
  mongo: MongoConnection;
  groupId: string;
  behaviour: ConsumerBehaviour;
  /** Opens sealed events for the behaviour (unless it reads no personal data). */
  opener: EventOpener;
  logger: Logger;
  metrics: Registry;
}

const keylessOpener = new EventOpener(NO_DATA_KEYS);

/** Reads wechat.events.v1 from the start with the service's group and applies every batch. */
export async function startProjectionConsumer(options: ProjectionConsumerOptions): Promise<RunningConsumer> {
  await options.behaviour.prepare(options.mongo.db);
  const opener = options.behaviour.readsPersonalData === false ? keylessOpener : options.opener;
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [options.behaviour.topic ?? Topics.events],
    logger: options.logger,
    metrics: options.metrics,
    fromBeginning: options.behaviour.fromBeginning ?? true,
    handleBatch: openingHandler(options.behaviour.handler(options.mongo.db), opener),
    // A group never splits a batch, so a limit of one event makes every batch a group of its own.
    ...(options.behaviour.batchesTogether === false ? { groupEvents: 1 } : {}),
  });
}

/**
 * The whole life of a consumer service: its variables (`<PREFIX>_PORT`, `<PREFIX>_GROUP` and the
 * shared ones) checked at start, the store and the broker connected, /healthz and /metrics served,
 * and a stop on SIGTERM that leaves the group before closing the store.
 */
export function runConsumerService<C = undefined>(
  service: string,
  defaults: {
    port: number;
    /**
     * The service's own variables, read with the shared ones before anything connects (ConfigError
     * for bad ones): a start reports every bad variable at once.
     */
    config?: () => C;
  },
  behavioursFor: (
    context: ServiceContext & { config: C },
  ) => ConsumerBehaviour | ConsumerBehaviour[] | Promise<ConsumerBehaviour[]>,
): void {
  const prefix = service.toUpperCase().replace(/-/g, '_');
  const logger = createLogger(service);
  const main = async () => {
    const problems: string[] = [];
    const config = readOrGather(problems, () =>
      loadConfig({
        [`${prefix}_PORT`]: port({ default: defaults.port, desc: 'Port of /healthz and /metrics' }),
        [`${prefix}_GROUP`]: str({ default: service, desc: 'Kafka consumer group' }),
        BIND_HOST: str({ default: '127.0.0.1' }),
        KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
        MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
        PRIVACY_KEY: str({
          desc: 'Secret of the pseudonyms and of the wrapping of data keys (at least 16 characters)',
        }),
        PRIVACY_KEY_CACHE_SECONDS: num({
          default: 30,
          desc: 'How long a data key read from the store is trusted without asking again',
        }),
      }),
    ) as
      | (Record<string, unknown> & {
          BIND_HOST: string;
          KAFKA_BROKERS: string[];
          MONGO_URL: string;
          PRIVACY_KEY: string;
          PRIVACY_KEY_CACHE_SECONDS: number;
        })
      | undefined;
    const own = defaults.config ? readOrGather(problems, defaults.config) : undefined;
    const { problems: kafkaProblems, security } = readKafkaSecurity(process.env);
    problems.push(...kafkaProblems);
    if (config && config.PRIVACY_KEY.length < 16) problems.push('PRIVACY_KEY must be at least 16 characters');
    if (
      config &&
      (!Number.isInteger(config.PRIVACY_KEY_CACHE_SECONDS) || config.PRIVACY_KEY_CACHE_SECONDS < 1)
    )
      problems.push('PRIVACY_KEY_CACHE_SECONDS must be a whole number of at least 1');
    if (problems.length > 0 || !config) throw new ConfigError(problems);
    const privacyKey = config.PRIVACY_KEY;
    const groupId = String(config[`${prefix}_GROUP`]);
    const metrics = createMetricsRegistry(service);
    const mongo = await connectMongo(config.MONGO_URL, service);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: service, logger, security });
    const keys = new DataKeyStore(mongo.db, privacyKey, { cacheSeconds: config.PRIVACY_KEY_CACHE_SECONDS });
    await keys.prepare();
    // Handlers read few personal fields (most events need none): each is decrypted when read.
    const opener = new EventOpener(keys, { openOnRead: true });
    const closers: Array<() => Promise<void>> = [];
    const behaviours = [
      await behavioursFor({
        config: own as C,
        privacyKey,
        keys,
        db: mongo.db,
        kafka,
        logger,
        onStop: (close) => closers.push(close),
      }),
    ].flat();
    surviveHangup(logger);
    const consumers = await Promise.all(
      behaviours.map((behaviour) =>
        startProjectionConsumer({
          kafka,
          mongo,
          groupId: `${groupId}${behaviour.groupSuffix ?? ''}`,
          behaviour,
          opener,
          logger,
          metrics,
        }),
      ),
    );
    await serveBackgroundService({
      logger,
      metrics,
      port: Number(config[`${prefix}_PORT`]),
      host: config.BIND_HOST,
      checks: {
        mongo: () => mongo.ping(),
        consumers: async () => {
          for (const consumer of consumers) consumer.assertConsuming();
        },
      },
      started: { group: groupId },
      stop: async () => {
        await Promise.all(consumers.map((consumer) => consumer.stop()));
        for (const close of closers) await close();
        await mongo.close();
      },
    });
  };
  main().catch((error: unknown) => exitOnStartupError(service, logger, error));
}
export * from './replay';
