import type { PushEvent } from '@wxp/contracts';
import { sealEvent, type DataKeyStore } from '@wxp/privacy';

/**
 * How the gateway seals an event before publishing: with its user's current data key, made on first
 * sight. A follow always gets a key of its own, so that the erasure of an earlier unfollow cannot
 * reach it and a returning user starts afresh.
 */
export function sealerFor(keys: DataKeyStore): (event: PushEvent) => Promise<PushEvent> {
  return async (event) => {
    if (!event.subject) throw new Error(`${event.type} ${event.id} has no pseudonym`);
    const key = await keys.keyForWriting(event.data.appId, event.subject, {
      fresh: event.type === 'wechat.user.subscribed',
    });
    return sealEvent(event, key);
  };
}
