import { DuplicateSuppressor } from '../src/duplicate-suppressor';

const outcomeOf = async (run: Promise<{ outcome: string }>) => (await run).outcome;

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
      outcomeOf(suppressor.run('a', publish)),
      outcomeOf(suppressor.run('a', publish)),
      outcomeOf(suppressor.run('a', publish)),
    ]);
    release();
    expect(await outcomes).toEqual(['published', 'duplicate', 'duplicate']);
    expect(calls).toBe(1);
    expect(await outcomeOf(suppressor.run('a', publish))).toBe('duplicate');
  });

  it('lets a retry publish again after a failure', async () => {
    const suppressor = new DuplicateSuppressor();
    await expect(suppressor.run('a', () => Promise.reject(new Error('broker down')))).rejects.toThrow(
      'broker down',
    );
    expect(await outcomeOf(suppressor.run('a', () => Promise.resolve()))).toBe('published');
  });

  it('forgets ids after their time and beyond its size', async () => {
    let now = 0;
    const suppressor = new DuplicateSuppressor(1000, 2, () => now);
    await suppressor.run('a', () => Promise.resolve());
    now = 1500;
    expect(await outcomeOf(suppressor.run('a', () => Promise.resolve()))).toBe('published');
    await suppressor.run('b', () => Promise.resolve());
    await suppressor.run('c', () => Promise.resolve());
    expect(await outcomeOf(suppressor.run('a', () => Promise.resolve()))).toBe('published');
  });

  it('answers every retry with what the first attempt resolved to', async () => {
    const suppressor = new DuplicateSuppressor<string>();
    let release!: (value: string) => void;
    const first = suppressor.run('a', () => new Promise<string>((resolve) => (release = resolve)));
    const concurrent = suppressor.run('a', () => Promise.resolve('second'));
    release('first reply');
    expect(await first).toEqual({ outcome: 'published', value: 'first reply' });
    expect(await concurrent).toEqual({ outcome: 'duplicate', value: 'first reply' });
    expect(await suppressor.run('a', () => Promise.resolve('third'))).toEqual({
      outcome: 'duplicate',
      value: 'first reply',
    });
  });
});
