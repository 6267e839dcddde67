import { Topics } from '@wxp/contracts';
import {
  createKafka,
  startEventConsumer,
  type ConsumedEvent,
  type Kafka,
  type RunningConsumer,
} from '@wxp/kafka';
import { activeCollections, connectMongo, type MongoConnection } from '@wxp/mongo';
import {
  brokerList,
  ConfigError,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  loadConfig,
  mongoUrl,
  port,
  serveBackgroundService,
  str,
  surviveHangup,
  type Logger,
  type Registry,
} from '@wxp/service-runtime';
import type { Db } from 'mongodb';

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
  prepare(db: Db): Promise<void>;
  handler(db: Db): (events: ConsumedEvent[]) => Promise<void>;
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
    prepare: async (db) => build(await activeCollections(db, service, defaults)).prepare(db),
    handler(db) {
      const handlers = new Map<string, (events: ConsumedEvent[]) => Promise<void>>();
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
  /** PRIVACY_KEY; a service started with `usesPrivacyKey: false` has none, and reading it throws. */
  readonly privacyKey: string;
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
  logger: Logger;
  metrics: Registry;
}

/** Reads wechat.events.v1 from the start with the service's group and applies every batch. */
export async function startProjectionConsumer(options: ProjectionConsumerOptions): Promise<RunningConsumer> {
  await options.behaviour.prepare(options.mongo.db);
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [options.behaviour.topic ?? Topics.events],
    logger: options.logger,
    metrics: options.metrics,
    fromBeginning: options.behaviour.fromBeginning ?? true,
    handleBatch: options.behaviour.handler(options.mongo.db),
    // A group never splits a batch, so a limit of one event makes every batch a group of its own.
    ...(options.behaviour.batchesTogether === false ? { groupEvents: 1 } : {}),
  });
}

/**
 * The whole life of a consumer service: its variables (`<PREFIX>_PORT`, `<PREFIX>_GROUP` and the
 * shared ones) checked at start, the store and the broker connected, /healthz and /metrics served,
 * and a stop on SIGTERM that leaves the group before closing the store.
 */
export function runConsumerService(
  service: string,
  defaults: {
    port: number;
    /** false for a service that files no user under a keyed hash: it is not given PRIVACY_KEY. */
    usesPrivacyKey?: boolean;
  },
  behavioursFor: (
    context: ServiceContext,
  ) => ConsumerBehaviour | ConsumerBehaviour[] | Promise<ConsumerBehaviour[]>,
): void {
  const prefix = service.toUpperCase().replace(/-/g, '_');
  const logger = createLogger(service);
  const usesPrivacyKey = defaults.usesPrivacyKey ?? true;
  const main = async () => {
    const config = loadConfig({
      [`${prefix}_PORT`]: port({ default: defaults.port, desc: 'Port of /healthz and /metrics' }),
      [`${prefix}_GROUP`]: str({ default: service, desc: 'Kafka consumer group' }),
      BIND_HOST: str({ default: '127.0.0.1' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      ...(usesPrivacyKey
        ? {
            PRIVACY_KEY: str({
              desc: 'Secret for the keyed hash read models file users under (at least 16 characters)',
            }),
          }
        : {}),
    }) as Record<string, unknown> & {
      BIND_HOST: string;
      KAFKA_BROKERS: string[];
      MONGO_URL: string;
      PRIVACY_KEY?: string;
    };
    // Only read when declared: the validated config throws on a variable it was not given.
    const privacyKey = usesPrivacyKey ? config.PRIVACY_KEY : undefined;
    if (usesPrivacyKey && (privacyKey ?? '').length < 16)
      throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
    const groupId = String(config[`${prefix}_GROUP`]);
    const metrics = createMetricsRegistry(service);
    const mongo = await connectMongo(config.MONGO_URL, service);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: service, logger });
    const closers: Array<() => Promise<void>> = [];
    const behaviours = [
      await behavioursFor({
        get privacyKey(): string {
          if (privacyKey === undefined) throw new Error(`${service} runs without PRIVACY_KEY`);
          return privacyKey;
        },
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
      checks: { mongo: () => mongo.ping() },
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
