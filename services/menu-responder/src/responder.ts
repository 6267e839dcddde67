import {
  ReadModels,
  ReplySent,
  Topics,
  derivedEventId,
  type AdminEvent,
  type WechatEvent,
} from '@wxp/contracts';
import type { ConsumerBehaviour } from '@wxp/consumer-service';
import { isDuplicateKeyError, projectIntoCollection } from '@wxp/mongo';
import type { Logger } from '@wxp/service-runtime';
import { ErrorCodes, provablyNotCarriedOut, WechatApiError, type WechatApiClient } from '@wxp/wechat-api';
import { replyFor } from '@wxp/reply-rules';
import { replyRulesOf, replyRulesProjection, type ReplyRulesDocument } from './reply-rules';

/** The call a reply is sent with. */
const SEND_API = 'message/custom/send';

export const RESPONDER_COLLECTIONS = { rules: ReadModels.replyRules, sent: 'sent_replies' } as const;

/** One reply per event, ever: the marker is written before the message is sent. */
interface SentReply {
  _id: string;
  appId: string;
  /** Which rule answered and with what kind of message, for the reply's record. */
  rule?: string;
  messageType?: string;
  /**
   * `unconfirmed`: the call may have reached WeChat (its answer was lost, or was "system busy") and
   * is not repeated, since the user may already have the message.
   */
  status: 'sending' | 'sent' | 'refused' | 'unconfirmed';
  at: Date;
  errcode?: number;
}

/** Keeps the reply rules of every account from wechat.admin.v1. */
export function replyRulesBehaviour(): ConsumerBehaviour {
  return {
    topic: Topics.admin,
    groupSuffix: '-rules',
    async prepare() {},
    handler(db) {
      const rules = db.collection<ReplyRulesDocument>(RESPONDER_COLLECTIONS.rules);
      return async (events) => {
        await projectIntoCollection(
          rules,
          replyRulesProjection,
          events.map((e) => ({ position: e.offset, event: e.event as AdminEvent })),
        );
      };
    },
  };
}

/**
 * Answers menu clicks and follows with the configured message through message/custom/send. The
 * group reads from the start, but events older than `maxAgeSeconds` are let go before anything else
 * is done with them, so a new deployment skims the history without answering it, and a restart
 * never skips what arrived before the group's first commit. A reply is sent at most once per event:
 * the marker is written first, so a crash between marker and send loses that reply rather than
 * sending it twice. Users whose data key is gone (unfollowed, erased) get no reply: their openId
 * cannot be read any more, which is what erasure means.
 */
export interface ResponderOptions {
  /**
   * Accounts whose replies the gateway puts inside the answer: the responder leaves them alone. For
   * events that do not say how the gateway answered (`replychannel`), written before it did.
   */
  repliesInAnswer?: (appId: string) => boolean;
  /** Writes `wechat.reply.sent` for a reply WeChat took (the same event for the same reply, always). */
  recordReply?: (record: ReplySentEvent) => Promise<void>;
}

type ReplySentEvent = Extract<WechatEvent, { type: 'wechat.reply.sent' }>;

/** The record of a reply sent through the customer-service API in answer to `event`. */
export function replySentRecord(
  event: Exclude<WechatEvent, { type: 'wechat.user.erased' | 'wechat.reply.sent' }>,
  rule: string,
  messageType: string,
  sentAt: Date,
): ReplySentEvent {
  const at = Math.floor(sentAt.getTime() / 1000);
  return {
    specversion: '1.0',
    id: derivedEventId(ReplySent.type, event.id),
    source: event.source,
    type: ReplySent.type,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    time: new Date(at * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: ReplySent.dataschema,
    causationid: event.id,
    data: { appId: event.data.appId, replyTo: event.id, channel: 'custom', rule, messageType, sentAt: at },
  };
}

export function responderBehaviour(
  api: WechatApiClient,
  logger: Logger,
  maxAgeSeconds: number,
  options: ResponderOptions = {},
): ConsumerBehaviour {
  const repliesInAnswer = options.repliesInAnswer ?? (() => false);
  const recordReply = options.recordReply ?? (async () => {});
  return {
    batchesTogether: false,
    async prepare() {},
    handler(db) {
      const rules = db.collection<ReplyRulesDocument>(RESPONDER_COLLECTIONS.rules);
      const sent = db.collection<SentReply>(RESPONDER_COLLECTIONS.sent);
      return async (events) => {
        for (const { event: raw, erased } of events) {
          const event = raw as WechatEvent;
          // An erasure or a reply holds nothing to answer; the events of erased users are let go below.
          if (event.type === 'wechat.user.erased' || event.type === 'wechat.reply.sent') continue;
          if (Date.now() / 1000 - event.data.createTime > maxAgeSeconds) continue;
          // The gateway answered the push itself: one reply per push, across both channels. It says
          // so on the event; events written before it did are judged by the accounts file.
          const passive = event.replychannel
            ? event.replychannel === 'passive'
            : repliesInAnswer(event.data.appId);
          if (passive) continue;
          const chosen = replyFor(replyRulesOf(await rules.findOne({ _id: event.data.appId })), event);
          if (!chosen) continue;
          const { message, rule } = chosen;
          if (erased) {
            // The user's key is gone, and with it whom to answer: normal, not a failure to retry.
            logger.debug({ eventId: event.id }, 'no reply: the user is erased');
            continue;
          }
          try {
            await sent.insertOne({
              _id: event.id,
              appId: event.data.appId,
              rule,
              messageType: message.msgtype,
              status: 'sending',
              at: new Date(),
            });
          } catch (error) {
            if (!isDuplicateKeyError(error)) throw error;
            // Sent before: its record may not have been written when that attempt stopped.
            const earlier = await sent.findOne({ _id: event.id });
            if (earlier?.status === 'sent')
              await recordReply(replySentRecord(event, rule, message.msgtype, earlier.at));
            continue;
          }
          try {
            await api.sendCustomMessage(event.data.appId, event.data.openId, message);
          } catch (error) {
            const errcode = error instanceof WechatApiError ? { errcode: error.errcode } : {};
            if (error instanceof WechatApiError && error.errcode !== ErrorCodes.systemBusy) {
              // WeChat refused for good (48-hour window, unfollowed, quota): recorded, not retried.
              logger.warn({ eventId: event.id, errcode: error.errcode }, 'reply refused by WeChat');
              await sent.updateOne(
                { _id: event.id },
                { $set: { status: 'refused', errcode: error.errcode } },
              );
            } else if (provablyNotCarriedOut(error, SEND_API)) {
              // No connection could be made, or the call failed before it was made: the marker
              // goes, so that the event's redelivery tries again.
              await sent.deleteOne({ _id: event.id, status: 'sending' });
              throw error;
            } else {
              // It may have reached WeChat (busy, a lost or garbled answer, an unforeseen error):
              // at most one reply, so it is not sent again.
              logger.warn({ eventId: event.id, ...errcode }, 'reply may have been delivered: not sent again');
              await sent.updateOne({ _id: event.id }, { $set: { status: 'unconfirmed', ...errcode } });
            }
            continue;
          }
          // Outside the send's try: a store failure here must not take the marker of a sent reply.
          const sentAt = new Date();
          await sent.updateOne({ _id: event.id }, { $set: { status: 'sent', at: sentAt } });
          await recordReply(replySentRecord(event, rule, message.msgtype, sentAt));
        }
      };
    },
  };
}

/** The consumers the service runs, as main.ts starts them. */
export function menuResponderConsumers(
  api: WechatApiClient,
  logger: Logger,
  maxAgeSeconds: number,
  options: ResponderOptions = {},
): ConsumerBehaviour[] {
  return [replyRulesBehaviour(), responderBehaviour(api, logger, maxAgeSeconds, options)];
}
