import { LegacyTopics, Topics, type CloudEvent } from '@wxp/contracts';
import { EventPublisher, topicOffsets, type Kafka, type OutgoingEvent } from '@wxp/kafka';
import { MAX_WRITES_PER_COMMAND } from '@wxp/mongo';
import { DataKeyStore, pseudonymOf, sealEvent, sealEventAsErased } from '@wxp/privacy';
import { SingleBar } from 'cli-progress';
import type { KafkaMessage } from 'kafkajs';
import type { Db } from 'mongodb';
import {
  ANSWERED_TYPES,
  LegacyEventError,
  isProfileType,
  isPushType,
  keyedId,
  migratedProfileEvent,
  migratedPushEvent,
  parseLegacy,
  unmappedCause,
  userOf,
} from './legacy-events';
import { existingTopics, readRange, type Offsets } from './topic-range';

/** Where the migration records how far it got, per source and target topic. */
export const PROGRESS_COLLECTION = 'log_migration';
/** v1 → v2 ids of the events the profile enricher answers, filed under a keyed hash of the v1 id. */
export const ID_MAP_COLLECTION = 'log_migration_ids';

export interface TopicPair {
  from: string;
  to: string;
}

export interface LogMigrationOptions {
  kafka: Kafka;
  db: Db;
  privacyKey: string;
  /** Default: wechat.events.v1 → wechat.events.v2. */
  events?: TopicPair;
  /** Default: wechat.profiles.v1 → wechat.profiles.v2. */
  profiles?: TopicPair;
  /** Write into a target topic that holds events this migration did not write (their order is then lost). */
  intoNonEmpty?: boolean;
  /** Progress lines go here; none without it. */
  progress?: NodeJS.WritableStream;
}

export interface PairSummary extends TopicPair {
  /** `missing`: the source topic does not exist, nothing was read. */
  status: 'missing' | 'migrated';
  /** Messages of the source this run read (those before the recorded progress are not read again). */
  read: number;
  /** Messages migrated by earlier runs. */
  earlier: number;
  sealed: number;
  erased: number;
  /** Not events of the topic's types, or not readable: left behind and counted, never printed. */
  skipped: number;
  seconds: number;
}

export interface MigrationSummary {
  events: PairSummary;
  profiles: PairSummary;
  /** Users whose last v1 event is an unfollow: written as erased, no key made. */
  erasedUsers: number;
  /** Keys destroyed for users who unfollowed after an earlier run had sealed their history. */
  keysDestroyed: number;
  /** Profiles whose cause is not among the migrated events (a backfill, an event gone from v1). */
  unmappedCauses: number;
}

/** The migration will not start: the message says why and what to do. */
export class MigrationRefusedError extends Error {
  override readonly name = 'MigrationRefusedError';
}

interface ProgressDocument {
  _id: string;
  offsets: Record<string, number>;
  sealed: number;
  erased: number;
  skipped: number;
  updatedAt: Date;
}

interface IdMapDocument {
  _id: string;
  v2: string;
  erased: boolean;
}

/** A user's last unfollow in v1: every event up to it is written as erased, as the live platform would have erased it. */
interface LastUnfollow {
  partition: number;
  offset: number;
  /** CreateTime, seconds: profiles (another topic) are compared by time. */
  time: number;
  /** Nothing of the user follows it: the user is erased altogether. */
  final: boolean;
}

/** Causes looked up per store read. */
const MAX_IDS_PER_READ = 1_000;

type LegacyEvent = CloudEvent<string, Record<string, unknown>>;

const pairId = (pair: TopicPair) => `${pair.from} -> ${pair.to}`;

function summaryOf(pair: TopicPair): PairSummary {
  return { ...pair, status: 'missing', read: 0, earlier: 0, sealed: 0, erased: 0, skipped: 0, seconds: 0 };
}

function parsed(message: KafkaMessage): LegacyEvent | undefined {
  try {
    return parseLegacy(message.value);
  } catch (error) {
    if (error instanceof LegacyEventError) return undefined;
    throw error;
  }
}

async function publishAll(publisher: EventPublisher, items: OutgoingEvent[]): Promise<void> {
  const results = await Promise.allSettled(items.map((item) => publisher.publish(item)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Copies the v1 log into the v2 topics: every personal field sealed under its user's data key,
 * keyed and identified by pseudonym, in each user's order. A user whose history ends with an unfollow
 * is written as erased and gets no key. Progress is recorded per partition in the store after each
 * batch is acknowledged, so a run that stops is resumed by running again, and a run after a complete
 * one copies only what v1 received since.
 */
/** What a batch has read and made since it last recorded its progress. */
interface CopiedSoFar {
  outgoing: OutgoingEvent[];
  answered: IdMapDocument[];
  counts: { sealed: number; erased: number; skipped: number };
  read: number;
}

const copiedSoFar = (): CopiedSoFar => ({
  outgoing: [],
  answered: [],
  counts: { sealed: 0, erased: 0, skipped: 0 },
  read: 0,
});

/** The offset after a batch's last message. */
const nextAfter = (messages: readonly { offset: string }[]) =>
  Number(messages[messages.length - 1]!.offset) + 1;

export async function migrateLog(options: LogMigrationOptions): Promise<MigrationSummary> {
  const { kafka, db, privacyKey } = options;
  const eventsPair = options.events ?? { from: LegacyTopics.events, to: Topics.events };
  const profilesPair = options.profiles ?? { from: LegacyTopics.profiles, to: Topics.profiles };
  const runStart = new Date();
  const progress = db.collection<ProgressDocument>(PROGRESS_COLLECTION);
  const idMap = db.collection<IdMapDocument>(ID_MAP_COLLECTION);
  const keys = new DataKeyStore(db, privacyKey, { cacheSeconds: 3600 });
  const pseudonym = (appId: string, openId: string) => pseudonymOf(privacyKey, appId, openId);

  const topics = await existingTopics(kafka);
  const present = [eventsPair, profilesPair].filter((pair) => topics.has(pair.from));
  for (const pair of present) {
    if (!topics.has(pair.to))
      throw new MigrationRefusedError(`${pair.to} does not exist: provision the v2 topics first`);
    const recorded = await progress.findOne({ _id: pairId(pair) });
    if (recorded || options.intoNonEmpty) continue;
    const { low, high } = await topicOffsets(kafka, pair.to);
    const held = [...high].reduce((sum, [p, h]) => sum + h - (low.get(p) ?? 0), 0);
    if (held > 0)
      throw new MigrationRefusedError(
        `${pair.to} already holds ${held} events that this migration did not write (no progress is recorded for it); ` +
          'migrated history written after them would come after newer events of the same users. ' +
          'Run the migration before anything writes v2, or pass --into-nonempty to write anyway',
      );
  }
  if (present.length === 0)
    return {
      events: summaryOf(eventsPair),
      profiles: summaryOf(profilesPair),
      erasedUsers: 0,
      keysDestroyed: 0,
      unmappedCauses: 0,
    };
  await keys.prepare();
  const publisher = await EventPublisher.connect(kafka, { maxQueuedEvents: 5_000 });
  const unfollows = new Map<string, LastUnfollow>();
  let keysDestroyed = 0;
  let unmappedCauses = 0;

  const bar = (label: string, total: number) => {
    if (!options.progress) return undefined;
    const started = Date.now();
    const shown = new SingleBar({
      format: `${label} |{bar}| {value}/{total} events | {speed}/s | ETA {eta_formatted}`,
      stream: options.progress,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    });
    shown.start(total, 0, { speed: 0 });
    let done = 0;
    return {
      add(count: number) {
        done += count;
        shown.update(done, { speed: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
      stop: () => shown.stop(),
    };
  };

  async function rangeOf(pair: TopicPair) {
    const { low, high } = await topicOffsets(kafka, pair.from);
    const recorded = await progress.findOne({ _id: pairId(pair) });
    const start: Offsets = new Map(
      [...high.keys()].map((p) => [p, Math.max(low.get(p)!, recorded?.offsets[String(p)] ?? 0)]),
    );
    const count = (from: Offsets) =>
      [...high].reduce((sum, [p, h]) => sum + Math.max(0, h - from.get(p)!), 0);
    return { low, high, start, total: count(start), all: count(low), resumed: recorded !== null };
  }

  /**
   * What a batch made since it last recorded its progress: published, the ids it answered filed, and
   * the partition's progress set to `next` (the offset after the last message it read) with its
   * counts, in the summary and the bar too. A run killed after this resumes after those messages.
   */
  async function recordCopied(
    pair: TopicPair,
    partition: number,
    next: number,
    made: CopiedSoFar,
    summary: PairSummary,
    shown: ReturnType<typeof bar>,
  ): Promise<void> {
    await publishAll(publisher, made.outgoing.splice(0));
    const answered = made.answered.splice(0);
    for (let i = 0; i < answered.length; i += MAX_WRITES_PER_COMMAND) {
      await idMap.bulkWrite(
        answered.slice(i, i + MAX_WRITES_PER_COMMAND).map((document) => ({
          replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true },
        })),
      );
    }
    const counts = { ...made.counts };
    await progress.updateOne(
      { _id: pairId(pair) },
      { $set: { [`offsets.${partition}`]: next, updatedAt: new Date() }, $inc: counts },
      { upsert: true },
    );
    summary.read += made.read;
    summary.sealed += counts.sealed;
    summary.erased += counts.erased;
    summary.skipped += counts.skipped;
    shown?.add(made.read);
    made.read = 0;
    Object.assign(made.counts, { sealed: 0, erased: 0, skipped: 0 });
  }

  /** Pass one: each user's last unfollow, and who unfollowed since an earlier run sealed their history. */
  async function findUnfollows(range: Awaited<ReturnType<typeof rangeOf>>): Promise<Set<string>> {
    const sinceEarlierRun = new Set<string>();
    const shown = bar('scanning', range.all);
    await readRange(kafka, eventsPair.from, range.low, range.high, async (partition, messages) => {
      for (const message of messages) {
        const event = parsed(message);
        if (!event || !isPushType(event.type)) continue;
        let user: string;
        try {
          const { appId, openId } = userOf(event);
          user = pseudonym(appId, openId);
        } catch {
          continue;
        }
        const offset = Number(message.offset);
        if (event.type === 'wechat.user.unsubscribed') {
          unfollows.set(user, { partition, offset, time: Number(event.data.createTime) || 0, final: true });
          if (range.resumed && offset >= range.start.get(partition)!) sinceEarlierRun.add(user);
        } else {
          const last = unfollows.get(user);
          if (last) last.final = false;
        }
      }
      shown?.add(messages.length);
    });
    shown?.stop();
    return sinceEarlierRun;
  }

  async function migrateEvents(): Promise<PairSummary> {
    const summary = summaryOf(eventsPair);
    if (!topics.has(eventsPair.from)) return summary;
    const started = Date.now();
    const range = await rangeOf(eventsPair);
    summary.status = 'migrated';
    summary.earlier = range.all - range.total;
    for (const user of await findUnfollows(range)) {
      // Keys made by earlier runs sealed what came before this unfollow; keys of this run are left.
      keysDestroyed += await keys.eraseUser(user, { madeBy: runStart, unfollowed: true });
    }
    const shown = bar('events', range.total);
    await readRange(
      kafka,
      eventsPair.from,
      range.start,
      range.high,
      async (partition, messages, heartbeat) => {
        const made = copiedSoFar();
        const { counts, outgoing, answered } = made;
        for (const message of messages) {
          made.read += 1;
          const v1 = parsed(message);
          let event;
          try {
            if (!v1) throw new LegacyEventError('unreadable');
            event = migratedPushEvent(v1, pseudonym);
          } catch (error) {
            if (!(error instanceof LegacyEventError)) throw error;
            counts.skipped += 1;
            continue;
          }
          const user = event.subject!;
          const last = unfollows.get(user);
          const erased =
            last !== undefined &&
            (last.partition === partition
              ? Number(message.offset) <= last.offset
              : event.data.createTime <= last.time);
          // A follow gets a key of its own, as the gateway gives it one; none comes back for a user
          // whose keys an earlier run's erasure destroyed and who has not followed since.
          const key = erased
            ? null
            : await keys.keyForWriting(event.data.appId, user, {
                fresh: event.type === 'wechat.user.subscribed',
              });
          const sealed = key ? sealEvent(event, key) : sealEventAsErased(event);
          counts[key ? 'sealed' : 'erased'] += 1;
          outgoing.push({ topic: eventsPair.to, key: user, event: sealed });
          if (ANSWERED_TYPES.has(event.type))
            answered.push({ _id: keyedId(privacyKey, v1!.id), v2: event.id, erased });
          if (outgoing.length >= 500) {
            await recordCopied(eventsPair, partition, Number(message.offset) + 1, made, summary, shown);
            await heartbeat();
          }
        }
        await recordCopied(eventsPair, partition, nextAfter(messages), made, summary, shown);
      },
    );
    shown?.stop();
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  }

  async function migrateProfiles(): Promise<PairSummary> {
    const summary = summaryOf(profilesPair);
    if (!topics.has(profilesPair.from)) return summary;
    const started = Date.now();
    const range = await rangeOf(profilesPair);
    summary.status = 'migrated';
    summary.earlier = range.all - range.total;
    const shown = bar('profiles', range.total);
    await readRange(
      kafka,
      profilesPair.from,
      range.start,
      range.high,
      async (partition, messages, heartbeat) => {
        const made = copiedSoFar();
        const { counts, outgoing } = made;
        const events = messages.map(parsed);
        const causes = new Map<string, IdMapDocument>();
        const wanted = events.flatMap((e) =>
          e && typeof e.data.causedBy === 'string' ? [keyedId(privacyKey, e.data.causedBy)] : [],
        );
        for (let i = 0; i < wanted.length; i += MAX_IDS_PER_READ) {
          for (const found of await idMap
            .find({ _id: { $in: wanted.slice(i, i + MAX_IDS_PER_READ) } })
            .toArray())
            causes.set(found._id, found);
        }
        for (const [index, v1] of events.entries()) {
          made.read += 1;
          if (!v1 || !isProfileType(v1.type) || typeof v1.data.causedBy !== 'string') {
            counts.skipped += 1;
            continue;
          }
          let appId: string;
          let openId: string;
          try {
            ({ appId, openId } = userOf(v1));
          } catch {
            counts.skipped += 1;
            continue;
          }
          const user = pseudonym(appId, openId);
          const cause = causes.get(keyedId(privacyKey, v1.data.causedBy));
          if (!cause) unmappedCauses += 1;
          const last = unfollows.get(user);
          const erased =
            v1.type === 'wechat.profile.erased' ||
            last?.final === true ||
            (cause ? cause.erased : last !== undefined && Number(v1.data.at) <= last.time);
          const event = migratedProfileEvent(
            v1,
            user,
            cause?.v2 ?? unmappedCause(privacyKey, v1.data.causedBy, openId, user),
          );
          const key = erased ? null : await keys.keyForWriting(appId, user);
          const sealed = key ? sealEvent(event, key) : sealEventAsErased(event);
          counts[key ? 'sealed' : 'erased'] += 1;
          outgoing.push({ topic: profilesPair.to, key: user, event: sealed });
          if (outgoing.length >= 500) {
            const next = Number(messages[index]!.offset) + 1;
            await recordCopied(profilesPair, partition, next, made, summary, shown);
            await heartbeat();
          }
        }
        await recordCopied(profilesPair, partition, nextAfter(messages), made, summary, shown);
      },
    );
    shown?.stop();
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  }

  try {
    const events = await migrateEvents();
    const profiles = await migrateProfiles();
    const erasedUsers = [...unfollows.values()].filter((u) => u.final).length;
    return { events, profiles, erasedUsers, keysDestroyed, unmappedCauses };
  } finally {
    await publisher.disconnect();
  }
}
