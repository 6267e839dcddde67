import { randomUUID } from 'node:crypto';
import type { Kafka, PartitionOffsets } from '@wxp/kafka';
import type { KafkaMessage } from 'kafkajs';

/** Offset per partition. */
export type Offsets = PartitionOffsets;
export async function existingTopics(kafka: Kafka): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
}

/** Messages of one partition, in offset order; `heartbeat` keeps the reader's session while a batch takes long. */
export type RangeHandler = (
  partition: number,
  messages: KafkaMessage[],
  heartbeat: () => Promise<void>,
) => Promise<void>;

/**
 * Reads every partition of `topic` from `from` up to (not including) `to`, one batch at a time,
 * and returns when all are read. The reader's group commits nothing and is deleted afterwards: the
 * caller keeps its own progress. A message handed over once is never handed over again, even when
 * a fetch made before the start offsets took effect comes back.
 */
export async function readRange(
  kafka: Kafka,
  topic: string,
  from: Offsets,
  to: Offsets,
  handle: RangeHandler,
): Promise<void> {
  const next = new Map([...to.keys()].map((p) => [p, from.get(p) ?? 0]));
  const remaining = new Set([...to].filter(([p, end]) => next.get(p)! < end).map(([p]) => p));
  if (remaining.size === 0) return;
  // A broker that has just started answers "coordinator loading" for a while; that passes.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await readOnce(kafka, topic, next, to, remaining, handle);
    } catch (error) {
      if (!(error instanceof StartError) || Date.now() > deadline) throw (error as StartError).cause ?? error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The reader could not join: nothing was handed over, it may start again. */
class StartError extends Error {
  override readonly name = 'StartError';
}

async function readOnce(
  kafka: Kafka,
  topic: string,
  next: Offsets,
  to: Offsets,
  remaining: Set<number>,
  handle: RangeHandler,
): Promise<void> {
  const groupId = `log-migration-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 60_000, heartbeatInterval: 3_000 });
  await consumer.connect();
  try {
    let finish!: () => void;
    let fail!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    // A failed start is retried with a new reader; the crash it also reports must not go unhandled.
    finished.catch(() => undefined);
    // kafkajs restarts the reader itself after a retriable crash (a coordinator still loading).
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });
    // Seeking is possible once the group is joined, and is needed again after any rejoin; what was
    // handed over already is filtered out, so a batch fetched before the seek does no harm.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      try {
        for (const partition of remaining)
          consumer.seek({ topic, partition, offset: String(next.get(partition)) });
      } catch (error) {
        fail(error as Error);
      }
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    try {
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const partition = batch.partition;
          if (!remaining.has(partition)) return;
          const start = next.get(partition)!;
          const end = to.get(partition)!;
          const messages = batch.messages.filter((m) => Number(m.offset) >= start && Number(m.offset) < end);
          try {
            if (messages.length > 0) {
              await handle(partition, messages, heartbeat);
              next.set(partition, Number(messages[messages.length - 1]!.offset) + 1);
            }
          } catch (error) {
            fail(error as Error);
            consumer.pause([{ topic }]);
            return;
          }
          // Offsets may have gaps (transaction markers, compaction): the batch's last offset tells the end.
          if (next.get(partition)! >= end || Number(batch.lastOffset()) >= end - 1) {
            remaining.delete(partition);
            consumer.pause([{ topic, partitions: [partition] }]);
            if (remaining.size === 0) finish();
          }
        },
      });
    } catch (error) {
      throw new StartError('could not join', { cause: error });
    }
    await finished;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
