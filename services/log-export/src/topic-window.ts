import { randomUUID } from 'node:crypto';
import type { Kafka } from '@wxp/kafka';
import type { KafkaMessage } from 'kafkajs';

/** The offsets of one partition that a time window covers: [start, end). */
export interface PartitionRange {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

/**
 * What each partition of the topics holds between two times, from the broker's time index: the
 * first offset stamped at or after `since` up to the first stamped at or after `until`. A partition
 * with nothing at or after a time answers -1, which is its end. Nothing is scanned.
 */
export async function rangesOfWindow(
  kafka: Kafka,
  topics: readonly string[],
  since: number,
  until: number,
): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ranges: PartitionRange[] = [];
    for (const topic of topics) {
      const bounds = await admin.fetchTopicOffsets(topic);
      const from = await admin.fetchTopicOffsetsByTimestamp(topic, since);
      const to = await admin.fetchTopicOffsetsByTimestamp(topic, until);
      for (const { partition, low, high } of bounds) {
        const within = (offset: string | undefined) => {
          const value = Number(offset ?? -1);
          return value < 0 ? Number(high) : Math.min(Math.max(value, Number(low)), Number(high));
        };
        const start = within(from.find((o) => o.partition === partition)?.offset);
        const end = Math.max(start, within(to.find((o) => o.partition === partition)?.offset));
        ranges.push({ topic, partition, start, end });
      }
    }
    return ranges.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

export const eventsIn = (ranges: readonly PartitionRange[]) =>
  ranges.reduce((sum, r) => sum + r.end - r.start, 0);

/** Messages of one partition within its range, in offset order. */
export type BatchHandler = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<void>;

export interface ReadOptions {
  /** Ends the read early: the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Offsets read so far, handed over or not (transaction markers count): for a progress bar. */
  onOffsets?: (count: number) => void;
}

/**
 * Reads every range once, batch by batch, and returns when each partition has reached its end.
 * The reader joins a group of its own that commits nothing and is deleted afterwards: an export
 * leaves no trace on the broker. Partitions are handled one batch at a time, so a handler may write
 * to one file without locking.
 */
export async function readRanges(
  kafka: Kafka,
  ranges: readonly PartitionRange[],
  handle: BatchHandler,
  options: ReadOptions = {},
): Promise<void> {
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const next = new Map<string, number>();
  const end = new Map<string, number>();
  for (const range of ranges) {
    if (range.end <= range.start) continue;
    next.set(keyOf(range.topic, range.partition), range.start);
    end.set(keyOf(range.topic, range.partition), range.end);
  }
  if (next.size === 0) return;
  options.signal?.throwIfAborted();
  const topics = [...new Set(ranges.filter((r) => r.end > r.start).map((r) => r.topic))];

  const groupId = `log-export-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 60_000,
    heartbeatInterval: 3_000,
    // Bigger fetches than the default 1 MB a partition: an export reads sequentially and flat out.
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    let finish!: () => void;
    let fail!: (error: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    finished.catch(() => undefined);
    const abort = () => fail(options.signal?.reason ?? new Error('aborted'));
    options.signal?.addEventListener('abort', abort, { once: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });
    // A seek takes effect once the group is joined, and again after any rejoin; what was handed
    // over already is filtered out below, so a fetch made before the seek does no harm.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      try {
        for (const [key, offset] of next) {
          const [topic, partition] = key.split('\u0000') as [string, string];
          consumer.seek({ topic, partition: Number(partition), offset: String(offset) });
        }
      } catch (error) {
        fail(error);
      }
    });
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = keyOf(batch.topic, batch.partition);
        const start = next.get(key);
        const stop = end.get(key)!;
        if (start === undefined || options.signal?.aborted) return;
        const messages = batch.messages.filter((m) => {
          const offset = Number(m.offset);
          return offset >= start && offset < stop;
        });
        const last = Math.min(Number(batch.lastOffset()) + 1, stop);
        try {
          if (messages.length > 0) await handle(batch.topic, batch.partition, messages);
        } catch (error) {
          fail(error);
          consumer.pause([{ topic: batch.topic }]);
          return;
        }
        if (last > start) {
          options.onOffsets?.(last - start);
          next.set(key, last);
        }
        // Offsets may have gaps (transaction markers): the batch's last offset tells the end.
        if (last >= stop) {
          next.delete(key);
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          if (next.size === 0) finish();
        }
      },
    });
    try {
      await finished;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
