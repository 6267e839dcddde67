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
