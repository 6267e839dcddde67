import { createHmac } from 'node:crypto';
import {
  canonicalEventId,
  derivedEventId,
  eventCatalogue,
  profileEventDefinitions,
  wechatEventDefinitions,
  type CloudEvent,
  type ProfileEvent,
  type PushEvent,
} from '@wxp/contracts';

/** A v1 message that cannot be carried over. The message names no field value: v1 values are personal. */
export class LegacyEventError extends Error {
  override readonly name = 'LegacyEventError';
}

/** A user's pseudonym, as `pseudonymOf` of @wxp/privacy with the platform's PRIVACY_KEY. */
export type PseudonymOf = (appId: string, openId: string) => string;

const pushTypes: ReadonlySet<string> = new Set(
  wechatEventDefinitions.map((d) => d.type).filter((type) => type !== 'wechat.user.erased'),
);
const profileTypes: ReadonlySet<string> = new Set(profileEventDefinitions.map((d) => d.type));

/** The types whose events the profile enricher answers: their v1 → v2 ids are kept for the profiles pass. */
export const ANSWERED_TYPES: ReadonlySet<string> = new Set([
  'wechat.user.subscribed',
  'wechat.user.unsubscribed',
]);

/** The v1 envelope of a Kafka value, or an error that quotes nothing of it. */
export function parseLegacy(value: Buffer | null): CloudEvent<string, Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.toString('utf8') ?? '');
  } catch {
    throw new LegacyEventError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LegacyEventError('not an object');
  const event = parsed as Record<string, unknown>;
  if (typeof event.id !== 'string' || typeof event.type !== 'string')
    throw new LegacyEventError('no id or type');
  if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data))
    throw new LegacyEventError(`${event.type} ${event.id}: no data`);
  return event as unknown as CloudEvent<string, Record<string, unknown>>;
}

/** The account and user of a v1 event of either topic. */
export function userOf(event: CloudEvent<string, Record<string, unknown>>): {
  appId: string;
  openId: string;
} {
  const { appId, openId } = event.data;
  if (typeof appId !== 'string' || appId === '' || typeof openId !== 'string' || openId === '')
    throw new LegacyEventError(`${event.type} ${event.id}: no appId or openId`);
  return { appId, openId };
}

export function isPushType(type: string): boolean {
  return pushTypes.has(type);
}

export function isProfileType(type: string): boolean {
  return profileTypes.has(type);
}

/** A push field as the gateway reads it: text, or absent when empty or not text. */
function text(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The v2 form of a v1 push event, personal fields still in clear: subject and id are computed over
 * the pseudonym from the push fields, exactly as the gateway computes them now, so a push that
 * reaches both the old and the new gateway (WeChat retries across the switch) has one id.
 */
export function migratedPushEvent(
  v1: CloudEvent<string, Record<string, unknown>>,
  pseudonymOf: PseudonymOf,
): PushEvent {
  if (!pushTypes.has(v1.type)) throw new LegacyEventError(`${v1.type} ${v1.id}: not a push event type`);
  const { appId, openId } = userOf(v1);
  const fields = v1.data.fields;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw new LegacyEventError(`${v1.type} ${v1.id}: no push fields`);
  const push = fields as Record<string, unknown>;
  const createTime = text(push, 'CreateTime');
  const msgType = text(push, 'MsgType');
  if (createTime === undefined || msgType === undefined)
    throw new LegacyEventError(`${v1.type} ${v1.id}: CreateTime or MsgType missing`);
  const pseudonym = pseudonymOf(appId, openId);
  const { datakeyid: _none, ...envelope } = v1;
  return {
    ...envelope,
    id: canonicalEventId({
      appId,
      fromUserName: pseudonym,
      createTime,
      msgType,
      event: text(push, 'Event'),
      eventKey: text(push, 'EventKey'),
      msgId: text(push, 'MsgId'),
    }),
    subject: pseudonym,
    dataschema: eventCatalogue.get(v1.type)!.dataschema,
  } as PushEvent;
}

/** The v2 form of a v1 profile event answering `causedBy` (already a v2 reference), personal fields in clear. */
export function migratedProfileEvent(
  v1: CloudEvent<string, Record<string, unknown>>,
  pseudonym: string,
  causedBy: string,
): ProfileEvent {
  if (!profileTypes.has(v1.type)) throw new LegacyEventError(`${v1.type} ${v1.id}: not a profile event type`);
  const { datakeyid: _none, ...envelope } = v1;
  return {
    ...envelope,
    id: derivedEventId(v1.type, causedBy),
    subject: pseudonym,
    causationid: causedBy,
    dataschema: eventCatalogue.get(v1.type)!.dataschema,
    data: { ...v1.data, causedBy },
  } as ProfileEvent;
}

/**
 * What a v1 profile's `causedBy` becomes when its cause is not among the migrated events: a backfill
 * reference (`backfill:<run>:<openId>`) names the pseudonym instead; anything else (a v1 event id,
 * an unkeyed hash over the openId) is replaced by a keyed hash of it, distinct and unlinkable.
 */
export function unmappedCause(
  privacyKey: string,
  causedBy: string,
  openId: string,
  pseudonym: string,
): string {
  if (causedBy.startsWith('backfill:') && causedBy.endsWith(`:${openId}`))
    return `${causedBy.slice(0, -openId.length)}${pseudonym}`;
  return `migrated:${keyedId(privacyKey, causedBy)}`;
}

/** A v1 event id under PRIVACY_KEY: the migration's id map is filed by it, so it holds no unkeyed hash of an openId. */
export function keyedId(privacyKey: string, v1Id: string): string {
  return createHmac('sha256', privacyKey).update(`log-migration\n${v1Id}`).digest('base64url');
}
