import { Topics } from '@wxp/contracts';
import { Kafka, logLevel } from 'kafkajs';

/**
 * How many times each event id whose subject (the openId) starts with `prefix` is stored on
 * wechat.events.v1: read from the start up to the end offsets of the moment it is called.
 */
export async function storedEventIds(brokers: string[], prefix: string): Promise<Map<string, number>> {
  const kafka = new Kafka({ brokers, clientId: 'bench-census', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(Topics.events)).map((o) => [o.partition, Number(o.high)]),
  );
  await admin.disconnect();
  const counts = new Map<string, number>();
  const remaining = new Set([...ends].filter(([, high]) => high > 0).map(([p]) => p));
  if (remaining.size === 0) return counts;
  const consumer = kafka.consumer({
    groupId: `bench-census-${Date.now().toString(36)}`,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: Topics.events, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const value = message.value?.toString() ?? '';
          // A cheap look at the subject before parsing: most of the topic belongs to other phases.
          if (value.includes(`"subject":"${prefix}`)) {
            const event = JSON.parse(value) as { id: string; subject: string };
            if (event.subject.startsWith(prefix)) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
          }
          if (Number(message.offset) + 1 >= (ends.get(batch.partition) ?? 0))
            remaining.delete(batch.partition);
        }
        if (remaining.size === 0) resolve();
      },
    });
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  return counts;
}
