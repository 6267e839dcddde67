import { Type } from '@sinclair/typebox';
import type { CloudEvent } from './cloud-event';
import { defineEvent, type DataOf } from './event-definition';
import { Topics } from './topics';

/** A customer-service message without `touser`: WeChat's body, e.g. `{ msgtype: 'text', text: { content } }`. */
export const CustomMessage = Type.Object(
  {
    msgtype: Type.Union(
      ['text', 'image', 'news', 'mpnews', 'voice', 'video', 'music', 'miniprogrampage'].map((t) =>
        Type.Literal(t),
      ),
    ),
  },
  { additionalProperties: true, description: "WeChat's message/custom/send body without touser" },
);

/**
 * Which credential issued an admin command: its name (the admin API records "admin-token" for
 * ADMIN_TOKEN), never the credential itself. Absent on events written before it was recorded.
 */
const Actor = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 64,
    description:
      'The name of the credential that issued the command, e.g. "admin-token"; never the credential',
  }),
);

export const ReplyRulesSet = defineEvent(
  'wechat.admin.reply_rules.set',
  1,
  Topics.admin,
  Type.Object({
    appId: Type.String({ minLength: 1 }),
    menu: Type.Record(Type.String(), CustomMessage, { description: 'Reply per menu key' }),
    welcome: Type.Record(Type.String(), CustomMessage, {
      description: 'Welcome per QR scene, and "default" for follows without one',
    }),
    scan: Type.Optional(
      Type.Record(Type.String(), CustomMessage, {
        description: 'Reply to a follower scanning a campaign code, per scene, and "default"',
      }),
    ),
    keywords: Type.Optional(
      Type.Object(
        {
          rules: Type.Array(
            Type.Object({
              match: Type.Union([Type.Literal('exact'), Type.Literal('contains')]),
              keyword: Type.String({ minLength: 1, maxLength: 300 }),
              reply: CustomMessage,
            }),
            { maxItems: 200, description: 'Tried in order; the first that matches answers' },
          ),
          default: Type.Optional(CustomMessage),
        },
        { description: 'Replies to text messages: exact or contains, first match wins, then the default' },
      ),
    ),
    actor: Actor,
  }),
);

/**
 * A parametric QR code created for a campaign. The scene is kept as the text WeChat pushes back in
 * EventKey, so the campaign joins its scans and follows on equal strings.
 */
export const CampaignCreated = defineEvent(
  'wechat.admin.campaign.created',
  1,
  Topics.admin,
  Type.Object({
    appId: Type.String({ minLength: 1 }),
    scene: Type.String({ minLength: 1, maxLength: 64 }),
    sceneId: Type.Optional(Type.Integer({ minimum: 1, description: 'Set when the scene is numeric' })),
    kind: Type.Union([Type.Literal('temporary'), Type.Literal('permanent')]),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    ticket: Type.String({ minLength: 1 }),
    url: Type.String({ minLength: 1, description: 'What the code encodes' }),
    expireSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
    createdAt: Type.String({ format: 'date-time' }),
    tag: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 30,
        description: 'The WeChat user tag given to followers who come in through this code',
      }),
    ),
    actor: Actor,
  }),
);

/** A custom menu WeChat accepted through menu/create. */
export const MenuPublished = defineEvent(
  'wechat.admin.menu.published',
  1,
  Topics.admin,
  Type.Object({
    appId: Type.String({ minLength: 1 }),
    menu: Type.Object(
      { button: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 3 }) },
      { additionalProperties: true, description: 'The menu/create body' },
    ),
    actor: Actor,
  }),
);

/** The custom menu removed through menu/delete. */
export const MenuDeleted = defineEvent(
  'wechat.admin.menu.deleted',
  1,
  Topics.admin,
  Type.Object({ appId: Type.String({ minLength: 1 }), actor: Actor }),
);

export const adminEventDefinitions = [ReplyRulesSet, CampaignCreated, MenuPublished, MenuDeleted] as const;

export type AdminEvent =
  | CloudEvent<typeof ReplyRulesSet.type, DataOf<typeof ReplyRulesSet>>
  | CloudEvent<typeof CampaignCreated.type, DataOf<typeof CampaignCreated>>
  | CloudEvent<typeof MenuPublished.type, DataOf<typeof MenuPublished>>
  | CloudEvent<typeof MenuDeleted.type, DataOf<typeof MenuDeleted>>;
