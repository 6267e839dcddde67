import { SignedQueryMemory } from '../src/signed-query-memory';

const now = 1_700_000_000;

describe('signed query memory', () => {
  it("accepts WeChat's retry of a query with the same body, and refuses another body under it", () => {
    const memory = new SignedQueryMemory(300, 100);
    expect(memory.see('wxa', now, '123', '<xml>one</xml>', now)).toBe('first');
    expect(memory.see('wxa', now, '123', '<xml>one</xml>', now + 5)).toBe('retry');
    expect(memory.see('wxa', now, '123', '<xml>two</xml>', now + 10)).toBe('replayed');
    expect(memory.see('wxa', now, '123', '<xml>one</xml>', now + 15)).toBe('retry');
    expect(memory.size).toBe(1);
  });

  it('tells queries apart by appId, timestamp and nonce', () => {
    const memory = new SignedQueryMemory(300, 100);
    expect(memory.see('wxa', now, '1', 'body', now)).toBe('first');
    expect(memory.see('wxb', now, '1', 'other', now)).toBe('first');
    expect(memory.see('wxa', now + 1, '1', 'other', now)).toBe('first');
    expect(memory.see('wxa', now, '2', 'other', now)).toBe('first');
    expect(memory.size).toBe(4);
  });

  it('forgets a query once its timestamp has left the clock window', () => {
    const memory = new SignedQueryMemory(300, 100);
    memory.see('wxa', now, '1', 'body', now);
    memory.see('wxa', now + 200, '2', 'body', now + 200);
    expect(memory.see('wxa', now + 100, '3', 'body', now + 301)).toBe('first');
    expect(memory.size).toBe(2);
    expect(memory.see('wxa', now + 200, '2', 'body', now + 500)).toBe('retry');
  });

  it('refuses a query whose body arrives after its timestamp left the window, though it was seen before', () => {
    const memory = new SignedQueryMemory(300, 100);
    expect(memory.see('wxa', now, 'n', '<xml>WeChat</xml>', now + 1)).toBe('first');
    // The headers came at now + 300, inside the window; the body, held back, at now + 301.
    expect(memory.see('wxa', now, 'n', '<xml>forged</xml>', now + 301)).toBe('forgotten');
    expect(memory.see('wxa', now, 'n', '<xml>WeChat</xml>', now + 301)).toBe('forgotten');
  });

  it('at its cap, forgets its oldest second and refuses everything up to it rather than accept it again', () => {
    const memory = new SignedQueryMemory(300, 4);
    for (let i = 0; i < 4; i++) expect(memory.see('wxa', now + i, 'n', `body${i}`, now + 3)).toBe('first');
    // Room is made by forgetting the oldest second (now), which no query may then use.
    expect(memory.see('wxa', now + 3, 'm', 'new', now + 3)).toBe('first');
    expect(memory.size).toBe(4);
    expect(memory.see('wxa', now, 'n', 'another body', now + 3)).toBe('forgotten');
    expect(memory.see('wxa', now, 'n', 'body0', now + 3)).toBe('forgotten');
    expect(memory.see('wxa', now, 'fresh', 'x', now + 3)).toBe('forgotten');
    // Later seconds are still remembered, and new pushes are still taken.
    expect(memory.see('wxa', now + 1, 'n', 'another body', now + 3)).toBe('replayed');
    expect(memory.see('wxa', now + 4, 'k', 'x', now + 4)).toBe('first');
  });

  it('never holds more than its cap, however many signed queries arrive', () => {
    const memory = new SignedQueryMemory(300, 1000);
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      memory.see('wxa', now + Math.floor(i / 50), String(i), 'body', now + Math.floor(i / 50));
      largest = Math.max(largest, memory.size);
    }
    expect(largest).toBe(1000);
    // The last second is still guarded.
    expect(memory.see('wxa', now + 399, '19999', 'other', now + 399)).toBe('replayed');
  });
});
