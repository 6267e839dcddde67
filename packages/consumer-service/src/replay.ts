import { DataKeyStore, EventOpener, NO_DATA_KEYS } from '@wxp/privacy';
import { Topics } from '@wxp/contracts';
import { createKafka, readKafkaSecurity, topicOffsets, topicOffsetsAt, type Kafka } from '@wxp/kafka';
import {
  activeCollections,
  CollectionsNotDropped,
  connectMongo,
  dropCollections,
  listSnapshots,
  pointReadModelAt,
  recordSnapshot,
  snapshotIdOf,
  stageReplayCollections,
  type MongoConnection,
} from '@wxp/mongo';
import {
  brokerList,
  ConfigError,
  createLogger,
  createMetricsRegistry,
  loadConfig,
  mongoUrl,
  num,
  str,
  type Logger,
  type Registry,
} from '@wxp/service-runtime';
import { SingleBar } from 'cli-progress';
import { startProjectionConsumer, type ConsumerBehaviour } from './index';

/** CPU time (user and system) the process has used: what a replay costs beside how long it takes. */
function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export interface ReplayOptions<N extends Record<string, string>> {
  kafka: Kafka;
  mongo: MongoConnection;
  service: string;
  /** The live collections, by role: the replay builds fresh ones and swaps them in. */
  collections: N;
  behaviourFor(collections: N): ConsumerBehaviour;
  /** Opens sealed events; a fresh one per replay, so that it reads keys as the store has them now. */
  opener: EventOpener;
  logger: Logger;
  metrics: Registry;
  /** Progress lines go here (a bar on a terminal, a line every two seconds otherwise). */
  stream?: NodeJS.WriteStream;
  /** A replay whose committed offsets do not move for this long fails instead of waiting on. */
  stallMs?: number;
  /**
   * Documents the replay holds in memory before writing them out (default 250,000; 0: write every
   * batch). Fresh collections are the replay's alone until the switch, so it builds them in memory
   * and inserts each document about once, instead of replacing it in every batch that touches it.
   */
  bufferDocuments?: number;
  /**
   * Build the model as it stood at this time instead: from the events before it, into collections
   * of its own recorded as a snapshot, leaving the live model and its pointer alone. A snapshot is
   * built without users' data keys (every user reads as erased): no later unfollow or erasure
   * reaches it, so it holds nothing personal in clear, only pseudonyms and figures.
   */
  until?: Date;
  /**
   * What the replay's consumer waits for before it starts (the data keys' load): the rest of the
   * set-up goes on meanwhile. A consumer waiting inside its first batches would send no heartbeat.
   */
  readyToConsume?: Promise<unknown>;
}

export class ReplayStalledError extends Error {
  override readonly name = 'ReplayStalledError';
}

export interface ReplayResult {
  events: number;
  seconds: number;
  swapped: string[];
  /** Collections of earlier replays that died before their switch, dropped at the start. */
  dropped: string[];
  /** The snapshot a point-in-time replay recorded; its collections are `swapped`. */
  snapshot?: string;
  /** The read model's previous collections that could not be dropped after the switch. */
  leftBehind?: string[];
}

type Offsets = Map<number, number>;

async function committed(kafka: Kafka, groupId: string, topic: string): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Drops the replay's consumer group: it has done its work. */
async function forgetGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]);
  } finally {
    await admin.disconnect();
  }
}

const REPLAY_INFIX = '__replay_';
const SNAPSHOT_INFIX = '__asof_';
const infixes = [REPLAY_INFIX, SNAPSHOT_INFIX];

/** A replay's collections are named after its start, in milliseconds, base 36. */
function replayStampOf(collection: string): string {
  for (const infix of infixes) {
    const at = collection.lastIndexOf(infix);
    if (at >= 0) return collection.slice(at + infix.length);
  }
  return '';
}

/**
 * Drops the fresh collections of this service's replays that died before their switch (a SIGKILL,
 * a lost machine): not pointed at, their replay group has no members, and they are over a minute
 * old (a replay that has just started has collections before its group exists). Returns their names.
 */
async function dropAbandonedReplays(
  kafka: Kafka,
  mongo: MongoConnection,
  service: string,
  collections: Record<string, string>,
): Promise<string[]> {
  const active = new Set([
    ...Object.values(await activeCollections(mongo.db, service, collections)),
    ...(await listSnapshots(mongo.db, service)).flatMap((snapshot) => Object.values(snapshot.collections)),
  ]);
  const prefixes = Object.values(collections).flatMap((name) => infixes.map((infix) => `${name}${infix}`));
  const now = Date.now();
  const candidates = (await mongo.db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .filter((name) => prefixes.some((prefix) => name.startsWith(prefix)) && !active.has(name))
    .filter((name) => {
      const startedAt = parseInt(replayStampOf(name), 36);
      return Number.isFinite(startedAt) && now - startedAt > 60_000;
    });
  if (candidates.length === 0) return [];
  const groupOf = (stamp: string) => `${service}-replay-${stamp}`;
  const admin = kafka.admin();
  await admin.connect();
  let running: Set<string>;
  try {
    const stamps = [...new Set(candidates.map(replayStampOf))];
    const { groups } = await admin.describeGroups(stamps.map(groupOf));
    running = new Set(groups.filter((g) => g.state !== 'Empty' && g.state !== 'Dead').map((g) => g.groupId));
  } finally {
    await admin.disconnect();
  }
  const abandoned = candidates.filter((name) => !running.has(groupOf(replayStampOf(name))));
  await dropCollections(mongo.db, abandoned);
  return abandoned;
}

/**
 * Rebuilds a read model from offset 0 into fresh collections while the live consumer keeps running,
 * points the service's read-model pointer at them in one update (readers and the live consumer
 * look it up per request and per batch), applies again whatever the live consumer had begun before
 * the switch, and drops the old collections. Both consumers apply the same events under position
 * guards, so the model converges. Only projections replay: they make no WeChat call and send nothing.
 */
export async function replayReadModel<N extends Record<string, string>>(
  options: ReplayOptions<N>,
): Promise<ReplayResult> {
  const { kafka, mongo, service, until } = options;
  const started = Date.now();
  const stamp = started.toString(36);
  const infix = until === undefined ? REPLAY_INFIX : SNAPSHOT_INFIX;
  const fresh = Object.fromEntries(
    Object.entries(options.collections).map(([role, name]) => [role, `${name}${infix}${stamp}`]),
  ) as N;
  const abandoned = await dropAbandonedReplays(kafka, mongo, service, options.collections);
  if (abandoned.length > 0)
    options.logger.warn(
      { dropped: abandoned },
      'dropped the collections of replays that died before their switch',
    );
  const groupId = `${service}-replay-${stamp}`;
  const shape = options.behaviourFor(fresh);
  const topic = shape.topic ?? Topics.events;
  const { low, high: now } = await topicOffsets(kafka, topic);
  // A point-in-time replay reads the log as it stood then: each partition up to its first event
  // stamped at or after `until`, and the consumer is shown nothing beyond.
  const high = until === undefined ? now : await topicOffsetsAt(kafka, topic, until);
  const behaviour = until === undefined ? shape : cutAt(shape, high);
  const total = [...high].reduce((sum, [p, h]) => sum + Math.max(0, h - (low.get(p) ?? 0)), 0);

  const bar = new SingleBar({
    format: `${until === undefined ? 'replay' : 'snapshot'} ${service} |{bar}| {value}/{total} events | {speed}/s | ETA {eta_formatted}`,
    noTTYOutput: true,
    notTTYSchedule: 2000,
    stream: options.stream ?? process.stderr,
  });
  bar.start(total, 0, { speed: 0 });

  const stallMs = options.stallMs ?? 120_000;
  let switched = false;
  /** The collections the model was read from before the switch, once it has switched. */
  let previous: Record<string, string> | undefined;
  let progress = { handled: -1, at: Date.now() };
  let done: Offsets = new Map();
  const waitUntil = async (until: Offsets) => {
    for (;;) {
      // A coordinator still loading (a fresh broker) or moving answers with a retriable error: that
      // poll shows no progress, and only a stall as long as stallMs fails the replay.
      done = await committed(kafka, groupId, topic).catch((error: unknown) => {
        if ((error as { retriable?: unknown }).retriable === true) return done;
        throw error;
      });
      const handled = [...until].reduce(
        (sum, [p]) => sum + Math.max(0, (done.get(p) ?? 0) - (low.get(p) ?? 0)),
        0,
      );
      bar.update(Math.min(handled, total), {
        speed: Math.round(handled / Math.max(0.001, (Date.now() - started) / 1000)),
      });
      if ([...until].every(([p, h]) => h <= (low.get(p) ?? 0) || (done.get(p) ?? -1) >= h)) return;
      if (handled !== progress.handled) progress = { handled, at: Date.now() };
      else if (Date.now() - progress.at > stallMs)
        throw new ReplayStalledError(
          `no progress for ${Math.round(stallMs / 1000)} s at ${handled} of ${total} events: the store or the ` +
            'broker stopped answering, or the consumer left its group (see the log); ' +
            (switched
              ? 'the read model was already switched and the live consumer keeps it'
              : 'nothing was switched'),
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  const bufferDocuments = options.bufferDocuments ?? 250_000;
  const staging =
    bufferDocuments > 0
      ? stageReplayCollections(mongo.db, Object.values(fresh), { maxDocuments: bufferDocuments })
      : undefined;
  await options.readyToConsume;
  // One consumer for the whole replay: joining a group costs seconds, so it is done once.
  const consumer = await startProjectionConsumer({
    kafka,
    mongo,
    groupId,
    behaviour,
    opener: until === undefined ? options.opener : new EventOpener(NO_DATA_KEYS),
    logger: options.logger,
    metrics: options.metrics,
  });
  let running = true;
  const stopConsumer = async () => {
    if (running) {
      running = false;
      await consumer.stop();
    }
  };
  try {
    await waitUntil(high);
    // Everything staged reaches the store before anyone else can see the fresh collections.
    await staging?.release();
    if (until !== undefined) {
      await stopConsumer();
      bar.stop();
      const snapshot = snapshotIdOf(service, stamp);
      await recordSnapshot(mongo.db, {
        _id: snapshot,
        service,
        until,
        builtAt: new Date(),
        events: total,
        collections: fresh,
      });
      switched = true;
      return {
        events: total,
        seconds: (Date.now() - started) / 1000,
        swapped: Object.values(fresh),
        dropped: abandoned,
        snapshot,
      };
    }
    const before = await activeCollections(mongo.db, service, options.collections);
    await pointReadModelAt(mongo.db, service, fresh);
    previous = before;
    switched = true;
    // Batches the live consumer began before the switch wrote to the old collections: the replay
    // goes on to the end of the topic as it is now, which covers them, before the old ones go.
    await waitUntil((await topicOffsets(kafka, topic)).high);
    await stopConsumer();
    bar.stop();
    // The switch is done and the fresh model is whole: collections left behind are reported, and
    // the replay is not failed for them.
    let leftBehind: string[] = [];
    await dropCollections(mongo.db, Object.values(before)).catch((error: unknown) => {
      if (!(error instanceof CollectionsNotDropped)) throw error;
      options.logger.warn({ err: error, collections: error.collections }, 'previous read model left behind');
      leftBehind = error.collections;
    });
    return {
      events: total,
      seconds: (Date.now() - started) / 1000,
      swapped: Object.values(fresh),
      dropped: abandoned,
      ...(leftBehind.length > 0 ? { leftBehind } : {}),
    };
  } catch (error) {
    // A replay that never switched leaves nothing behind: its half-built collections go.
    if (!switched) {
      staging?.discard();
      // A consumer stuck in a batch the store never answers would hold the stop for ever.
      await Promise.race([stopConsumer(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
      // The replay's own error is the one to report; what stays is swept by the next replay.
      await dropCollections(mongo.db, Object.values(fresh)).catch((dropError: unknown) =>
        options.logger.warn({ err: dropError }, 'collections of the failed replay left for the next one'),
      );
    }
    // Failed after its switch (stalled catching up): nothing reads the previous collections any
    // more, and an erasure no longer reaches them, so they go now or are named; the new model may
    // lack the batches the live consumer wrote to them, which a new replay makes whole.
    if (previous) {
      const names = Object.values(previous);
      await dropCollections(mongo.db, names).then(
        () =>
          options.logger.warn(
            { collections: names },
            'replay failed after its switch: the previous read model is dropped; replay again to make the new one whole',
          ),
        (dropError: unknown) =>
          options.logger.error(
            { err: dropError, collections: names },
            'replay failed after its switch and the previous read model could not be dropped: drop it by hand',
          ),
      );
    }
    throw error;
  } finally {
    await stopConsumer();
    bar.stop();
    await forgetGroup(kafka, groupId).catch(() => undefined);
  }
}

/** The behaviour with every event at or beyond `end` (per partition) left out. */
function cutAt(behaviour: ConsumerBehaviour, end: Map<number, number>): ConsumerBehaviour {
  return {
    ...behaviour,
    handler(db) {
      const handle = behaviour.handler(db);
      return async (events) => {
        const before = events.filter((e) => e.offset < (end.get(e.partition) ?? 0));
        if (before.length > 0) await handle(before);
      };
    },
  };
}

export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError';
}

/**
 * The replay command's arguments: none (rebuild and switch) or `--until <time>` (a snapshot of the
 * model as it stood then). A time to come is refused: the log up to it is not written yet, so the
 * same command would build a different model later.
 */
export function parseReplayArguments(args: readonly string[], now = new Date()): { until?: Date } {
  if (args.length === 0) return {};
  const given =
    args.length === 2 && args[0] === '--until'
      ? args[1]
      : args.length === 1 && args[0]?.startsWith('--until=')
        ? args[0].slice('--until='.length)
        : undefined;
  if (given === undefined)
    throw new ReplayUsageError(
      'usage: replay [--until <time>]  (an ISO 8601 time, e.g. 2026-11-30T12:00:00+08:00)',
    );
  // A day alone is China's midnight, as the read models' days are; a time must name its zone.
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(given);
  if (
    !dayOnly &&
    (given.length > 40 ||
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(given))
  )
    throw new ReplayUsageError(
      '--until must be a day (China time) or an ISO 8601 time with its zone, e.g. 2026-11-30 or 2026-11-30T12:00:00+08:00',
    );
  const until = new Date(dayOnly ? `${given}T00:00:00+08:00` : given);
  if (Number.isNaN(until.getTime())) throw new ReplayUsageError('--until is not a valid time');
  if (until.getTime() > now.getTime())
    throw new ReplayUsageError(
      '--until is in the future: a snapshot is of the log as it stood at a past time',
    );
  return { until };
}

/**
 * The replay command of a consumer service: `node services/<name>/dist/replay.js [--until <time>]`.
 * It reads the same variables as the service (KAFKA_BROKERS, MONGO_URL, PRIVACY_KEY) and runs beside it.
 */
export function runReplayCli<N extends Record<string, string>>(
  service: string,
  collections: N,
  behaviourFor: (privacyKey: string, collections: N) => ConsumerBehaviour,
  options: {
    /** Why this model has no snapshots, when it has none (`--until` is then refused). */
    noSnapshots?: string;
  } = {},
): void {
  let until: Date | undefined;
  try {
    ({ until } = parseReplayArguments(process.argv.slice(2)));
    if (until !== undefined && options.noSnapshots !== undefined)
      throw new ReplayUsageError(`--until is not offered for ${service}: ${options.noSnapshots}`);
  } catch (error) {
    process.stderr.write(`${service} replay: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const main = async () => {
    const config = loadConfig({
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      PRIVACY_KEY: str({ desc: 'The same secret the service uses' }),
      REPLAY_STALL_SECONDS: num({ default: 120, desc: 'Fail when no event is committed for this long' }),
      REPLAY_KEY_CACHE_SECONDS: num({
        default: 600,
        desc: "How long the replay trusts a user's data key it has read",
      }),
      REPLAY_BUFFER_DOCUMENTS: num({
        default: 250_000,
        desc: 'Read-model documents held in memory before they are written (0: write every batch)',
      }),
    });
    const { problems: kafkaProblems, security } = readKafkaSecurity(process.env);
    const problems: string[] = [...kafkaProblems];
    if (!Number.isInteger(config.REPLAY_BUFFER_DOCUMENTS) || config.REPLAY_BUFFER_DOCUMENTS < 0)
      problems.push(
        `REPLAY_BUFFER_DOCUMENTS must be a whole number, 0 or more (got ${config.REPLAY_BUFFER_DOCUMENTS})`,
      );
    if (!Number.isInteger(config.REPLAY_KEY_CACHE_SECONDS) || config.REPLAY_KEY_CACHE_SECONDS < 1)
      problems.push(
        `REPLAY_KEY_CACHE_SECONDS must be a whole number of at least 1 (got ${config.REPLAY_KEY_CACHE_SECONDS})`,
      );
    if (problems.length > 0) throw new ConfigError(problems);
    const logger = createLogger(`${service}-replay`, process.env.LOG_LEVEL ?? 'warn');
    const mongo = await connectMongo(config.MONGO_URL, `${service}-replay`);
    // A user's events are spread over the whole history: a key read at the start is wanted again
    // minutes later. A key destroyed meanwhile opens at most events from before the unfollow or
    // erasure that destroyed it, which the model then applies: it ends as without the key. The
    // cache holds as many keys as the buffer documents.
    const keys = new DataKeyStore(mongo.db, config.PRIVACY_KEY, {
      cacheSeconds: config.REPLAY_KEY_CACHE_SECONDS,
      maxCached: Math.max(100_000, config.REPLAY_BUFFER_DOCUMENTS),
    });
    const started = Date.now();
    // A snapshot and a behaviour that reads nothing personal open their events without keys.
    const opensWithKeys =
      until === undefined && behaviourFor(config.PRIVACY_KEY, collections).readsPersonalData !== false;
    // The keys load while the replay finds its offsets; the load is part of the replay's time.
    const preloading = opensWithKeys ? keys.preload() : Promise.resolve(0);
    // Its failure is met where the replay waits for it; until then it must not end the process.
    preloading.catch(() => undefined);
    // Handlers read few personal fields (most events need none): each is decrypted when read.
    // A live consumer drops a user's keys when it reads their unfollow or erasure, because the
    // keys go just after. A replay reads old unfollows, whose keys went long ago or not at all: what
    // it holds came from the store as it stands now, trusted for REPLAY_KEY_CACHE_SECONDS like any
    // key, so it keeps them rather than read every returning user's keys again.
    const opener = new EventOpener(
      { keysByIds: (ids) => keys.keysByIds(ids), forget: () => undefined },
      { openOnRead: true },
    );
    try {
      const result = await replayReadModel({
        kafka: createKafka({
          brokers: config.KAFKA_BROKERS,
          clientId: `${service}-replay`,
          logger,
          security,
        }),
        mongo,
        service,
        collections,
        behaviourFor: (names) => behaviourFor(config.PRIVACY_KEY, names),
        opener,
        logger,
        metrics: createMetricsRegistry(`${service}-replay`),
        stallMs: config.REPLAY_STALL_SECONDS * 1000,
        bufferDocuments: config.REPLAY_BUFFER_DOCUMENTS,
        ...(until === undefined ? {} : { until }),
        readyToConsume: preloading,
      });
      const seconds = (Date.now() - started) / 1000;
      const outcome =
        result.snapshot === undefined
          ? `swapped in ${result.swapped.join(', ')}`
          : `snapshot ${result.snapshot} of the log before ${until?.toISOString()} in ${result.swapped.join(', ')}`;
      process.stdout.write(
        `replayed ${result.events} events in ${seconds.toFixed(1)} s ` +
          `(${keys.reads} reads of users' data keys for ${keys.keysRead} keys, ${keys.readSeconds.toFixed(1)} s ` +
          `waiting for them, ${opener.openingSeconds.toFixed(1)} s opening events, ` +
          `${processCpuSeconds().toFixed(1)} s of CPU); ` +
          outcome +
          (result.dropped.length > 0
            ? `; dropped ${result.dropped.join(', ')}, left by replays that died before their switch`
            : '') +
          '\n',
      );
      if (result.leftBehind)
        process.stderr.write(
          `${service} replay: the previous ${result.leftBehind.join(', ')} could not be dropped; ` +
            'nothing reads them any more: drop them by hand\n',
        );
    } finally {
      await mongo.close();
    }
  };
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${service} replay: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
