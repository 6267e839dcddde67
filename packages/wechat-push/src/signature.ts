import { createHash, timingSafeEqual } from 'node:crypto';

/** WeChat's signature: hex sha1 of the parts sorted as strings and concatenated. */
export function wechatSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * True when `given` is the hex digest `expected`, in either case. Anything that is not hex of the
 * same length is refused before the comparison: one non-ASCII character makes the byte lengths
 * differ, which `timingSafeEqual` does not forgive.
 */
export function signatureMatches(expected: string, given: string | undefined): boolean {
  if (typeof given !== 'string' || given.length !== expected.length || !HEX.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(given.toLowerCase(), 'latin1'));
}
