import { createHash } from 'node:crypto';
import { signatureMatches, wechatSignature } from '../src/signature';

describe('WeChat signatures', () => {
  it('sort the parts as strings before hashing', () => {
    // Computed independently of wechatSignature: sorted("token","1409735669","xxxxxx") joined.
    const expected = createHash('sha1').update(['1409735669', 'token', 'xxxxxx'].join('')).digest('hex');
    expect(wechatSignature('token', '1409735669', 'xxxxxx')).toBe(expected);
    expect(wechatSignature('xxxxxx', 'token', '1409735669')).toBe(expected);
  });

  it('match only the exact hex digest (upper-case hex accepted)', () => {
    const good = wechatSignature('t', '1', 'n');
    expect(signatureMatches(good, good)).toBe(true);
    expect(signatureMatches(good, good.toUpperCase())).toBe(true);
    expect(signatureMatches(good, good.slice(1))).toBe(false);
    expect(signatureMatches(good, undefined)).toBe(false);
    expect(
      signatureMatches(
        good,
        `${good.slice(0, -1)}0` === good ? `${good.slice(0, -1)}1` : `${good.slice(0, -1)}0`,
      ),
    ).toBe(false);
  });

  it('refuse, without throwing, anything that is not 40 hex characters', () => {
    const good = wechatSignature('t', '1', 'n');
    // Same string length as a digest, one byte longer in UTF-8.
    expect(signatureMatches(good, `é${'0'.repeat(39)}`)).toBe(false);
    expect(signatureMatches(good, `${good.slice(0, 39)}é`)).toBe(false);
    expect(signatureMatches(good, `${good.slice(0, 39)}g`)).toBe(false);
    expect(signatureMatches(good, '💥'.repeat(20))).toBe(false);
    expect(signatureMatches(good, ' '.repeat(40))).toBe(false);
  });
});
