import { secureRandomBytes } from '../src/random-pool';

describe('random bytes drawn from a pool', () => {
  it('never hands out the same bytes twice, across refills of the pool', () => {
    const seen = new Set<string>();
    // 30,000 nonces of 12 bytes: the pool is refilled about 44 times.
    for (let n = 0; n < 30_000; n++) {
      const nonce = secureRandomBytes(12);
      expect(nonce).toHaveLength(12);
      seen.add(nonce.toString('hex'));
    }
    expect(seen.size).toBe(30_000);
  });

  it('gives each caller bytes of its own, which later draws do not change', () => {
    const key = secureRandomBytes(32);
    const copy = Buffer.from(key);
    for (let n = 0; n < 1000; n++) secureRandomBytes(32);
    expect(key).toEqual(copy);
    expect(key.equals(Buffer.alloc(32))).toBe(false);
    expect(secureRandomBytes(20_000)).toHaveLength(20_000);
  });
});
