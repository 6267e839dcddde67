import { Type } from '@sinclair/typebox';
import type { CloudEvent } from './cloud-event';
import { defineEvent, type DataOf } from './event-definition';
import { MessageId, userEventBase } from './push-event-base';
import { Topics } from './topics';
import {
  documentedPushesOf,
  kfSessionDefinitions,
  receiptDefinitions,
  typedUserPushDefinitions,
} from './typed-push-events';

const sceneFields = {
  scene: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'The QR scene as sent (scene_id or scene_str)',
  }),
  sceneId: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 4294967295, description: 'The scene as a number, when it is one' }),
  ),
  ticket: Type.Optional(Type.String({ description: 'Ticket of the QR code that was scanned' })),
};

export const UserSubscribed = defineEvent(
  'wechat.user.subscribed',
  2,
  Topics.events,
  Type.Object({
    ...userEventBase,
    scene: Type.Optional(sceneFields.scene),
    sceneId: sceneFields.sceneId,
    ticket: sceneFields.ticket,
  }),
);

export const UserUnsubscribed = defineEvent(
  'wechat.user.unsubscribed',
  2,
  Topics.events,
  Type.Object(userEventBase),
);

export const QrcodeScanned = defineEvent(
  'wechat.qrcode.scanned',
  2,
  Topics.events,
  Type.Object({ ...userEventBase, ...sceneFields }),
);

export const MenuClicked = defineEvent(
  'wechat.menu.clicked',
  2,
  Topics.events,
  Type.Object({ ...userEventBase, key: Type.String({ description: 'EventKey: the menu key' }) }),
);

export const MenuViewed = defineEvent(
  'wechat.menu.viewed',
  2,
  Topics.events,
  Type.Object({
    ...userEventBase,
    url: Type.String({ description: 'EventKey: the URL opened' }),
    menuId: Type.Optional(Type.String({ description: 'MenuId, kept as a string' })),
  }),
);

export const userMessageTypes = [
  'text',
  'image',
  'voice',
  'video',
  'shortvideo',
  'location',
  'link',
] as const;
export type UserMessageType = (typeof userMessageTypes)[number];

export const MessageReceived = defineEvent(
  'wechat.message.received',
  2,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgType: Type.Union(userMessageTypes.map((t) => Type.Literal(t))),
    msgId: Type.Optional(MessageId),
  }),
);

export const EventReceived = defineEvent(
  'wechat.event.received',
  2,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgType: Type.String({ description: 'MsgType as sent; "event" for events' }),
    event: Type.Optional(Type.String({ description: 'Event as sent, e.g. LOCATION or scancode_push' })),
  }),
);

/**
 * The user asked to be forgotten (PIPL, GDPR art. 17): their data key is destroyed, so nothing
 * written under it reads any more. Carries no personal field; `subject` is the user's pseudonym.
 */
export const UserErased = defineEvent(
  'wechat.user.erased',
  1,
  Topics.events,
  Type.Object({
    appId: Type.String({ minLength: 1, description: 'The account the user was erased from' }),
    requestedAt: Type.Integer({
      minimum: 0,
      description: 'When erasure was asked for, seconds since the epoch',
    }),
  }),
);

/**
 * A reply went to a user: inside the HTTP answer to their push (`passive`) or through the
 * customer-service API (`custom`). Names the rule and the kind of message, nothing the user sent.
 */
export const ReplySent = defineEvent(
  'wechat.reply.sent',
  1,
  Topics.events,
  Type.Object({
    appId: Type.String({ minLength: 1, description: 'The account that replied' }),
    replyTo: Type.String({ minLength: 1, description: 'The id of the event of the push answered' }),
    channel: Type.Union([Type.Literal('passive'), Type.Literal('custom')]),
    rule: Type.String({
      minLength: 1,
      description:
        'Which rule answered: menu:<key>, welcome:<scene>, scan:<scene>, keywords:<n> or keywords:default',
    }),
    messageType: Type.String({ minLength: 1, description: 'msgtype of the reply: text, image, news, …' }),
    sentAt: Type.Integer({ minimum: 0, description: 'When it was sent, seconds since the epoch' }),
  }),
);

export const wechatEventDefinitions = [
  UserSubscribed,
  UserUnsubscribed,
  QrcodeScanned,
  MenuClicked,
  MenuViewed,
  MessageReceived,
  EventReceived,
  UserErased,
  ReplySent,
  ...typedUserPushDefinitions,
  ...kfSessionDefinitions,
  ...receiptDefinitions,
] as const;

type Definitions = (typeof wechatEventDefinitions)[number];

/** The union of everything on the events topic; switch on `type` exhaustively. */
export type WechatEvent = {
  [D in Definitions as D['type']]: CloudEvent<D['type'], DataOf<D>>;
}[Definitions['type']];

export type WechatEventType = WechatEvent['type'];
export type WechatEventOf<T extends WechatEventType> = Extract<WechatEvent, { type: T }>;

/** What a WeChat push becomes: every event type of the events topic but the platform's own. */
export type PushEvent = Exclude<WechatEvent, WechatEventOf<'wechat.user.erased' | 'wechat.reply.sent'>>;

/**
 * Events about a user in which the user did nothing: WeChat's receipts of what the account sent,
 * changes an agent made to a customer-service session, and replies. They say nothing of the user's
 * activity.
 */
export const notUserActionTypes: ReadonlySet<WechatEventType> = new Set([
  ...[...receiptDefinitions, ...kfSessionDefinitions].map((d) => d.type),
  ReplySent.type,
]);

/**
 * The Event names of those reports, as a push kept under `wechat.event.received` carries them in
 * `data.event` (written before the report had a type of its own, or lacking its documented shape).
 */
export const notUserActionPushes: ReadonlySet<string> = new Set(
  [...receiptDefinitions, ...kfSessionDefinitions].flatMap((d) =>
    (documentedPushesOf[d.type]?.pushes ?? '').replace(/^Event /, '').split(', '),
  ),
);

/**
 * When a WeChat event happened: its push's CreateTime, in seconds; undefined for the platform's own
 * events that carry none (an erasure request).
 */
export function createTimeOf(event: { data?: unknown }): number | undefined {
  const time = (event.data as { createTime?: unknown } | undefined)?.createTime;
  return typeof time === 'number' ? time : undefined;
}
