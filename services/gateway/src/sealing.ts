import type { PushEvent } from '@wxp/contracts';
import { sealEvent, sealEventAsErased, type DataKeyStore } from '@wxp/privacy';

/**
 * How the gateway seals an event before publishing: with its user's current data key, made on first
 * sight. A follow always gets a key of its own, so that the erasure of an earlier unfollow cannot
 * reach it and a returning user starts afresh. An unfollow is sealed with the store's newest key,
 * not a cached one, since its erasure reaches the keys up to the one it names. An event of a user
 * whose keys are destroyed (a retried push after the unfollow, a receipt) is written as erased.
 */
export function sealerFor(
  keys: Pick<DataKeyStore, 'keyForWriting'>,
): (event: PushEvent) => Promise<PushEvent> {
  return async (event) => {
    if (!event.subject) throw new Error(`${event.type} ${event.id} has no pseudonym`);
    const key = await keys.keyForWriting(event.data.appId, event.subject, {
      fresh: event.type === 'wechat.user.subscribed',
      latest: event.type === 'wechat.user.unsubscribed',
    });
    return key ? sealEvent(event, key) : sealEventAsErased(event);
  };
}
