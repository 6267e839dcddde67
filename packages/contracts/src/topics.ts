/**
 * Every topic the platform owns, declared once. Provisioning, the AsyncAPI document and the
 * consumers all read this list, so a topic cannot exist in one place and be missing in another.
 */
export const Topics = {
  events: 'wechat.events.v2',
  profiles: 'wechat.profiles.v2',
  admin: 'wechat.admin.v1',
} as const;

/**
 * The topics of the first version, which carry personal data in clear. Nothing writes them any
 * more; `npm run migrate-log` reads them into the v2 topics, after which an operator deletes them.
 * They are not provisioned.
 */
export const LegacyTopics = {
  events: 'wechat.events.v1',
  profiles: 'wechat.profiles.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Broker-side topic configuration, applied on creation. */
  config: Record<string, string>;
  /** What the Kafka message key is, for readers of the AsyncAPI document. */
  key: string;
  description: string;
}

const keepForever = { 'retention.ms': '-1', 'cleanup.policy': 'delete' };
// Dead letters are kept long enough for a person to look at them and replay them.
const keepDeadLetters = { 'retention.ms': String(30 * 24 * 3600 * 1000), 'cleanup.policy': 'delete' };

export const DEAD_LETTER_SUFFIX = '.dlq';

export function deadLetterTopicOf(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

const primaryTopics: TopicSpec[] = [
  {
    name: Topics.events,
    partitions: 12,
    config: keepForever,
    key: 'pseudonym: HMAC-SHA256 keyed by PRIVACY_KEY over appId and openId, base64url',
    description:
      "System of record: one canonical CloudEvent per WeChat push, personal fields sealed with the user's data key. All events of one user of one account share a partition.",
  },
  {
    name: Topics.profiles,
    partitions: 12,
    config: keepForever,
    key: 'pseudonym: HMAC-SHA256 keyed by PRIVACY_KEY over appId and openId, base64url',
    description:
      "Results of user/info look-ups made by the profile enricher, personal fields sealed with the user's data key.",
  },
  {
    name: Topics.admin,
    partitions: 3,
    config: keepForever,
    key: 'appId',
    description: 'Commands accepted by the admin API (campaigns, menus, reply rules), as events.',
  },
];

export const topicCatalogue: readonly TopicSpec[] = primaryTopics.flatMap((topic) => [
  topic,
  {
    name: deadLetterTopicOf(topic.name),
    partitions: topic.partitions,
    config: keepDeadLetters,
    key: topic.key,
    description: `Events from ${topic.name} that a consumer could not handle after its retries, with the error in headers.`,
  },
]);
