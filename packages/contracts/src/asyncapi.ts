import { stringify } from 'yaml';
import { CLOUD_EVENT_CONTENT_TYPE, EventHeaders } from './cloud-event';
import type { EventDefinition } from './event-definition';
import { Topics, topicCatalogue } from './topics';
import { allEventDefinitions } from './event-catalogue';
import { documentedPushesOf } from './typed-push-events';

const messageName = (definition: EventDefinition) => definition.type.replace(/\./g, '_');

/** Topics whose events carry personal data: keyed and subject by pseudonym, personal fields sealed. */
const sealedTopics: ReadonlySet<string> = new Set([Topics.events, Topics.profiles]);

const keyOf = (definition: EventDefinition) =>
  topicCatalogue.find((topic) => topic.name === definition.topic)?.key ?? 'appId';

const aboutPersonalData =
  " On wechat.events.v2 and wechat.profiles.v2 the Kafka key and `subject` are the user's pseudonym " +
  '(HMAC-SHA256 keyed by PRIVACY_KEY over appId and openId), and every personal field (openId, unionId, ' +
  'remark, every push field but ToUserName, CreateTime, MsgType, Event, EventKey, Ticket, MenuId and ' +
  'MsgId, and every property a schema marks with x-sealed, which holds the shape of its value once opened) ' +
  "is sealed with AES-256-GCM under the user's data key, named by the `datakeyid` extension, as " +
  '`wxp1.<nonce>.<ciphertext>`; `wxp1.erased` marks a field written after the key had gone. Readers open ' +
  'events with the @wxp/privacy package (EventOpener over the user_data_keys collection and PRIVACY_KEY); ' +
  'a user whose keys were destroyed (unfollow, erasure request) reads as erased, for good.';

/**
 * The AsyncAPI 3 description of every topic, its key and the event types on it, built from the
 * same declarations the code uses; `npm run schemas` writes it to docs/asyncapi.yaml.
 */
export function asyncApiDocument(definitions: readonly EventDefinition[] = allEventDefinitions) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const topic of topicCatalogue) {
    const onTopic = definitions.filter((d) => d.topic === topic.name || `${d.topic}.dlq` === topic.name);
    const channelId = topic.name.replace(/\./g, '_');
    channels[channelId] = {
      address: topic.name,
      description: topic.description,
      messages: Object.fromEntries(
        onTopic.map((d) => [messageName(d), { $ref: `#/components/messages/${messageName(d)}` }]),
      ),
      bindings: {
        kafka: {
          topic: topic.name,
          partitions: topic.partitions,
          topicConfiguration: { 'retention.ms': Number(topic.config['retention.ms']) },
          bindingVersion: '0.5.0',
        },
      },
    };
    operations[`publish_${channelId}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `Events written to ${topic.name}, keyed by ${topic.key}`,
    };
  }
  const messages = Object.fromEntries(
    definitions.map((d) => [
      messageName(d),
      {
        name: d.type,
        title: d.type,
        contentType: CLOUD_EVENT_CONTENT_TYPE,
        summary: `CloudEvents 1.0 structured mode; type ${d.type}, version ${d.version}, dataschema ${d.dataschema}`,
        ...(documentedPushesOf[d.type]
          ? {
              description:
                `Made from WeChat pushes with ${documentedPushesOf[d.type]!.pushes}. WeChat's documented examples: ` +
                documentedPushesOf[d.type]!.fixtures.map(
                  (f) => `packages/contracts/fixtures/pushes/${f}.xml`,
                ).join(', ') +
                ' (and .json).',
            }
          : {}),
        headers: {
          type: 'object',
          properties: {
            [EventHeaders.contentType]: { type: 'string', const: CLOUD_EVENT_CONTENT_TYPE },
            [EventHeaders.type]: { type: 'string', const: d.type },
            [EventHeaders.id]: { type: 'string' },
          },
        },
        payload: {
          type: 'object',
          required: ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'dataschema', 'data'],
          properties: {
            specversion: { const: '1.0' },
            id: { type: 'string', description: 'Deterministic from the push: retries share it' },
            source: { type: 'string', description: '/wechat/{appId}' },
            type: { const: d.type },
            ...(sealedTopics.has(d.topic)
              ? {
                  subject: { type: 'string', description: "The user's pseudonym" },
                  datakeyid: {
                    type: 'string',
                    description: "The user's data key the personal fields are sealed with",
                  },
                }
              : {}),
            ...(d.topic === Topics.events
              ? {
                  replychannel: {
                    enum: ['passive', 'custom'],
                    description:
                      'On pushes: how the gateway took the account to be answered when the push came ' +
                      '(inside the HTTP answer, or by the customer-service API); absent on events written before it',
                  },
                }
              : {}),
            time: { type: 'string', format: 'date-time', description: "The push's CreateTime" },
            datacontenttype: { const: 'application/json' },
            dataschema: { const: d.dataschema },
            data: { $ref: `../packages/contracts/schemas/${d.type}.v${d.version}.json` },
          },
        },
        bindings: {
          kafka: { key: { type: 'string', description: keyOf(d) }, bindingVersion: '0.5.0' },
        },
      },
    ]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'WeChat Official Account event platform',
      version: '1.0.0',
      description:
        'Every WeChat push becomes one canonical CloudEvent. Topics are created by the platform; wechat.events.v2 keeps everything and is the system of record.' +
        aboutPersonalData,
    },
    defaultContentType: CLOUD_EVENT_CONTENT_TYPE,
    channels,
    operations,
    components: { messages },
  };
}

/** The document as it is committed in docs/asyncapi.yaml. */
export function asyncApiYaml(): string {
  const header =
    '# Generated by `npm run schemas` from packages/contracts; edit the declarations, not this file.\n';
  return `${header}${stringify(asyncApiDocument(), { aliasDuplicateObjects: false })}`;
}
