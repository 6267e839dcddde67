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
  }),
);

export const adminEventDefinitions = [ReplyRulesSet] as const;

export type AdminEvent = CloudEvent<typeof ReplyRulesSet.type, DataOf<typeof ReplyRulesSet>>;
