import { userKey } from '@wxp/contracts';

/**
 * A user's pseudonym: HMAC-SHA256 keyed by PRIVACY_KEY over appId and openId, base64url (256 bits).
 * It is the Kafka key and `subject` of their events and the id read models file them under, so
 * per-user order, partitioning and "returning follower" checks work without the openId. It is not
 * erased: without the user's data key nothing ties it to a person.
 */
export function pseudonymOf(privacyKey: string, appId: string, openId: string): string {
  return userKey(privacyKey, appId, openId);
}
