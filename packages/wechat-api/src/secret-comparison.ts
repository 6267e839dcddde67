import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Whether two secrets are the same, in time that does not depend on where they differ: their
 * digests, of equal length whatever the secrets' lengths, are compared in constant time.
 */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
}
