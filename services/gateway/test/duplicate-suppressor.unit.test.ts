import { DuplicateSuppressor } from '../src/duplicate-suppressor';

describe('duplicate suppressor', () => {
  it('publishes concurrent retries of one event once, and all of them learn the outcome', async () => {
    const suppressor = new DuplicateSuppressor();
    let calls = 0;
    let release!: () => void;
    const publish = () => {
      calls += 1;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const outcomes = Promise.all([
      suppressor.run('a', publish),
      suppressor.run('a', publish),
      suppressor.run('a', publish),
    ]);
    release();
    expect(await outcomes).toEqual(['published', 'duplicate', 'duplicate']);
    expect(calls).toBe(1);
    expect(await suppressor.run('a', publish)).toBe('duplicate');
  });

  it('lets a retry publish again after a failure', async () => {
    const suppressor = new DuplicateSuppressor();
    await expect(suppressor.run('a', () => Promise.reject(new Error('broker down')))).rejects.toThrow(
      'broker down',
    );
    expect(await suppressor.run('a', () => Promise.resolve())).toBe('published');
  });

  it('forgets ids after their time and beyond its size', async () => {
    let now = 0;
    const suppressor = new DuplicateSuppressor(1000, 2, () => now);
    await suppressor.run('a', () => Promise.resolve());
    now = 1500;
    expect(await suppressor.run('a', () => Promise.resolve())).toBe('published');
    await suppressor.run('b', () => Promise.resolve());
    await suppressor.run('c', () => Promise.resolve());
    expect(await suppressor.run('a', () => Promise.resolve())).toBe('published');
  });
});
