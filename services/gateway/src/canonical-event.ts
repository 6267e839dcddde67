import {
  EventReceived,
  MenuClicked,
  MenuViewed,
  MessageReceived,
  QrcodeScanned,
  UserSubscribed,
  UserUnsubscribed,
  canonicalEventId,
  openedSchemaProblems,
  sourceOfApp,
  userMessageTypes,
  type EventDefinition,
  type UserMessageType,
  type PushEvent,
} from '@wxp/contracts';
import { optionalText, pushEnvelopeOf, type PushFields } from './push-parser';
import { subscriptionMsgIdsOf, typedReadingOf } from './typed-pushes';

const QR_SCENE_PREFIX = 'qrscene_';
const MAX_SCENE_ID = 4294967295;

function sceneOf(raw: string | undefined): { scene: string; sceneId?: number } | undefined {
  if (raw === undefined || raw.length === 0 || raw.length > 64) return undefined;
  if (/^[0-9]{1,10}$/.test(raw) && Number(raw) <= MAX_SCENE_ID) return { scene: raw, sceneId: Number(raw) };
  return { scene: raw };
}

function isUserMessageType(msgType: string): msgType is UserMessageType {
  return (userMessageTypes as readonly string[]).includes(msgType);
}

/** A user's pseudonym (see @wxp/privacy): the event's subject and Kafka key. */
export type PseudonymOf = (appId: string, openId: string) => string;

/**
 * Told of each push that becomes a generic event: `expected` is the declared type a push of its
 * kind has when it has WeChat's documented shape, or `undeclared` for kinds without one.
 */
export type UntypedPushListener = (expected: string) => void;

const MESSAGE_ID = /^[0-9]+$/;

/**
 * Turns one verified push into the one canonical event it stands for, personal fields still in
 * clear (they are sealed before publishing). Pure: the same push always gives the same event, id
 * included, so WeChat's retries collapse downstream. The id is computed over the pseudonym, not the
 * openId, so that someone holding an openId cannot confirm it against the log.
 */
export function toCanonicalEvent(
  appId: string,
  fields: PushFields,
  pseudonymOf: PseudonymOf,
  onUntyped?: UntypedPushListener,
): PushEvent {
  const envelope = pushEnvelopeOf(fields);
  const pseudonym = pseudonymOf(appId, envelope.fromUserName);
  const eventName = optionalText(fields, 'Event');
  const eventKey = optionalText(fields, 'EventKey');
  // WeChat spells it MsgID in job receipts (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH) and in the
  // items of subscribe_msg_sent_event: two receipts for one user in one second differ only there.
  const msgId =
    optionalText(fields, 'MsgId') ??
    optionalText(fields, 'MsgID') ??
    (eventName === 'subscribe_msg_sent_event' ? subscriptionMsgIdsOf(fields) : undefined);
  // A message's id is a number; anything else stays in `fields` only.
  const messageId = msgId !== undefined && MESSAGE_ID.test(msgId) ? { msgId } : {};
  const base = {
    appId,
    openId: envelope.fromUserName,
    accountId: envelope.toUserName,
    createTime: Number(envelope.createTime),
    fields,
  };
  const ticket = optionalText(fields, 'Ticket');
  const withTicket = ticket === undefined ? {} : { ticket };

  const envelopeFor = <D>(definition: EventDefinition, data: D) => ({
    specversion: '1.0' as const,
    id: canonicalEventId({
      appId,
      fromUserName: pseudonym,
      createTime: envelope.createTime,
      msgType: envelope.msgType,
      event: eventName,
      eventKey,
      msgId,
    }),
    source: sourceOfApp(appId),
    type: definition.type,
    subject: pseudonym,
    time: new Date(base.createTime * 1000).toISOString(),
    datacontenttype: 'application/json' as const,
    dataschema: definition.dataschema,
    data,
  });

  if (envelope.msgType === 'event' && eventName !== undefined) {
    switch (eventName.toLowerCase()) {
      case 'subscribe': {
        const scene = eventKey?.startsWith(QR_SCENE_PREFIX)
          ? sceneOf(eventKey.slice(QR_SCENE_PREFIX.length))
          : undefined;
        return envelopeFor(UserSubscribed, { ...base, ...scene, ...withTicket }) as PushEvent;
      }
      case 'unsubscribe':
        return envelopeFor(UserUnsubscribed, base) as PushEvent;
      case 'scan': {
        const scene = sceneOf(eventKey);
        if (scene) return envelopeFor(QrcodeScanned, { ...base, ...scene, ...withTicket }) as PushEvent;
        onUntyped?.(QrcodeScanned.type);
        return envelopeFor(EventReceived, {
          ...base,
          msgType: envelope.msgType,
          event: eventName,
        }) as PushEvent;
      }
      case 'click':
        return envelopeFor(MenuClicked, { ...base, key: eventKey ?? '' }) as PushEvent;
      case 'view': {
        const menuId = optionalText(fields, 'MenuId');
        return envelopeFor(MenuViewed, {
          ...base,
          url: eventKey ?? '',
          ...(menuId === undefined ? {} : { menuId }),
        }) as PushEvent;
      }
      default:
        break;
    }
  }
  const typed = typedReadingOf(envelope.msgType, eventName, fields);
  if (typed?.data) {
    const data = {
      ...base,
      ...(envelope.msgType === 'event' ? {} : messageId),
      ...typed.data,
    };
    // The event must have the shape its type declares, or it is kept under the generic type.
    if (openedSchemaProblems(typed.definition.type, data).length === 0)
      return envelopeFor(typed.definition, data) as PushEvent;
  }
  // Text has its declared type: the message event.
  if (envelope.msgType !== 'text') onUntyped?.(typed?.definition.type ?? 'undeclared');
  if (isUserMessageType(envelope.msgType)) {
    return envelopeFor(MessageReceived, {
      ...base,
      msgType: envelope.msgType,
      ...messageId,
    }) as PushEvent;
  }
  return envelopeFor(EventReceived, {
    ...base,
    msgType: envelope.msgType,
    ...(eventName === undefined ? {} : { event: eventName }),
  }) as PushEvent;
}

/** All events of one user of one account share a partition (the pseudonym's), so consumers see them in order. */
export function partitionKeyOf(event: PushEvent): string {
  if (!event.subject) throw new Error(`${event.type} ${event.id} has no pseudonym`);
  return event.subject;
}
