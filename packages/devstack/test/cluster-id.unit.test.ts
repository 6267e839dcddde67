import { newClusterId } from '../src/kafka-broker';

describe('KRaft cluster ids', () => {
  it('never start with "-", which kafka-storage would read as an option', () => {
    // 0xf8 as the first byte encodes to "-" in URL-safe base64.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x10)];
    const id = newClusterId(() => draws.shift() as Buffer);
    expect(id).toBe(Buffer.alloc(16, 0x10).toString('base64url'));
    expect(draws).toHaveLength(0);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
  });

  it('are 22 characters of URL-safe base64', () => {
    for (let i = 0; i < 1000; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
