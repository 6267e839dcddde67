import type { Kafka } from 'kafkajs';

/** Offset per partition. */
export type PartitionOffsets = Map<number, number>;

/** Where each partition of a topic begins and ends now: a replay's or a copy's bounds. */
export async function topicOffsets(
  kafka: Kafka,
  topic: string,
): Promise<{ low: PartitionOffsets; high: PartitionOffsets }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return {
      low: new Map(offsets.map((o) => [o.partition, Number(o.low)])),
      high: new Map(offsets.map((o) => [o.partition, Number(o.high)])),
    };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Where each partition of a topic stood at a time: the offset of its first event stamped at or after
 * it (the end of the partition when none is). Events before these offsets are the log as it was then.
 */
export async function topicOffsetsAt(kafka: Kafka, topic: string, time: Date): Promise<PartitionOffsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, time.getTime());
    return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
  } finally {
    await admin.disconnect();
  }
}
