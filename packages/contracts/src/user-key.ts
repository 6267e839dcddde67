import { createHmac } from 'node:crypto';

/**
 * The key read models file a user under: a keyed hash of appId and openId. It lets a tombstone
 * outlive an unsubscribe (so late events cannot bring the user back) without keeping the openId;
 * without the secret the hash cannot be tied to anyone.
 */
export function userKey(secret: string, appId: string, openId: string): string {
  return createHmac('sha256', secret).update(`${appId}\n${openId}`).digest('base64url');
}

/** Calendar days as WeChat's users live them (China Standard Time, UTC+8), for per-day figures. */
export function chinaDayOf(epochSeconds: number): string {
  return new Date((epochSeconds + 8 * 3600) * 1000).toISOString().slice(0, 10);
}
