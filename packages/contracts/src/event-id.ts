import { createHash } from 'node:crypto';

/** The parts of a push that tell one push from another; WeChat's retries repeat all of them. */
export interface PushIdentity {
  appId: string;
  fromUserName: string;
  createTime: string;
  msgType: string;
  event?: string | undefined;
  eventKey?: string | undefined;
  msgId?: string | undefined;
}

/**
 * A deterministic event id: a retried push gets the same id, two different pushes in the same
 * second do not. Shaped as a UUID (version 8, "custom") so that any tooling accepts it.
 */
export function canonicalEventId(push: PushIdentity): string {
  return uuidOf([
    push.appId,
    push.fromUserName,
    push.createTime,
    push.msgType,
    push.event ?? '',
    push.eventKey ?? '',
    push.msgId ?? '',
  ]);
}

/** The id of an event made in answer to another: the same answer to the same event has the same id. */
export function derivedEventId(type: string, causedBy: string): string {
  return uuidOf([type, causedBy]);
}

function uuidOf(parts: string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
