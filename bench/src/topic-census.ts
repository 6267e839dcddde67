import { Topics } from '@wxp/contracts';
import { Kafka, logLevel } from 'kafkajs';

export interface StoredEvents {
  /** How many times each event id is stored. */
  copies: Map<string, number>;
  /** The subjects asked for that have at least one event stored, with where the first one is. */
  subjectsFound: Map<string, { partition: number; offset: string }>;
}

/**
 * The events whose subject (a user's pseudonym) is one of `subjects` stored on wechat.events.v1:
 * read from the start up to the end offsets of the moment it is called.
 */
export async function storedEvents(brokers: string[], subjects: ReadonlySet<string>): Promise<StoredEvents> {
  const kafka = new Kafka({ brokers, clientId: 'bench-census', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(Topics.events)).map((o) => [o.partition, Number(o.high)]),
  );
  await admin.disconnect();
  const counts = new Map<string, number>();
  const subjectsFound: StoredEvents['subjectsFound'] = new Map();
  const remaining = new Set([...ends].filter(([, high]) => high > 0).map(([p]) => p));
  if (remaining.size === 0) return { copies: counts, subjectsFound };
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
          // The subject read in place before parsing: most of the topic belongs to other phases.
          const subject = subjectOf(value);
          if (subjects.has(subject)) {
            if (!subjectsFound.has(subject))
              subjectsFound.set(subject, { partition: batch.partition, offset: message.offset });
            const event = JSON.parse(value) as { id: string };
            counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
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
  return { copies: counts, subjectsFound };
}

const SUBJECT = '"subject":"';

/** The `subject` of a serialized CloudEvent (pseudonyms are base64url: no escapes), or ''. */
function subjectOf(value: string): string {
  const start = value.indexOf(SUBJECT);
  if (start < 0) return '';
  const end = value.indexOf('"', start + SUBJECT.length);
  return end < 0 ? '' : value.slice(start + SUBJECT.length, end);
}
