import type { TopicSpec } from '@wxp/contracts';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface ProvisioningResult {
  created: string[];
  existing: string[];
}

/**
 * Creates the topics that are missing, with their partition counts and configuration. Existing
 * topics are left as they are: their partition count is never raised silently, because that would
 * move keys to other partitions and break per-user order. A mismatch is logged instead.
 */
export async function provisionTopics(
  kafka: Kafka,
  topics: readonly TopicSpec[],
  logger: Logger,
): Promise<ProvisioningResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !present.has(t.name));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          // Waited for below: kafkajs gives up when a node has not heard of a new topic yet.
          waitForLeaders: false,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: -1,
            configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (error) {
        // Another process provisioning at the same moment created some of them first.
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
      }
    }
    if (missing.length > 0)
      await untilLeadersElected(
        admin,
        missing.map((t) => t.name),
      );
    const existing = topics.filter((t) => present.has(t.name));
    if (existing.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.name) });
      for (const topic of metadata.topics) {
        const spec = existing.find((t) => t.name === topic.name);
        if (spec && topic.partitions.length !== spec.partitions) {
          logger.warn(
            { topic: topic.name, partitions: topic.partitions.length, declared: spec.partitions },
            'topic has a different partition count than declared; left unchanged',
          );
        }
      }
    }
    const result = { created: missing.map((t) => t.name), existing: existing.map((t) => t.name) };
    logger.info(result, 'topics provisioned');
    return result;
  } finally {
    await admin.disconnect();
  }
}

const NOT_KNOWN_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Until every partition of `topics` has a leader. In a cluster the node asked may learn of a topic
 * created through another node a moment later, and answer "unknown topic" until then.
 */
async function untilLeadersElected(admin: Admin, topics: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let waitingFor: string;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const leaderless = metadata.topics.filter((t) => t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return;
      waitingFor = `${leaderless.map((t) => t.name).join(', ')} without a leader`;
    } catch (error) {
      if (!NOT_KNOWN_YET.has((error as { type?: string }).type ?? '')) throw error;
      waitingFor = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`topics created but not ready within ${timeoutMs} ms: ${waitingFor}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
