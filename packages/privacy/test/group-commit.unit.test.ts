import { GroupCommit } from '../src/group-commit';

function deferred() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { release, released };
}

describe('a group commit', () => {
  it('sends the first request alone and those arriving while it is in flight together', async () => {
    const groups: number[][] = [];
    const gate = deferred();
    const commit = new GroupCommit<number, number>(async (items) => {
      groups.push(items);
      if (groups.length === 1) await gate.released;
      return items.map((item) => item * 10);
    });
    const first = commit.submit(1);
    const rest = [2, 3, 4].map((item) => commit.submit(item));
    gate.release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the group whose round trip failed, and goes on with the next', async () => {
    const gate = deferred();
    let calls = 0;
    const commit = new GroupCommit<string, string>(async (items) => {
      calls += 1;
      if (calls === 1) {
        await gate.released;
        throw new Error('store unreachable');
      }
      return items.map((item) => item.toUpperCase());
    });
    const failing = commit.submit('a');
    const next = commit.submit('b');
    gate.release();
    await expect(failing).rejects.toThrow('store unreachable');
    await expect(next).resolves.toBe('B');
  });

  it('keeps a group within its bound', async () => {
    const sizes: number[] = [];
    const gate = deferred();
    const commit = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        if (sizes.length === 1) await gate.released;
        return items;
      },
      { maxGroup: 3 },
    );
    const all = Array.from({ length: 8 }, (_, n) => commit.submit(n));
    gate.release();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sizes).toEqual([1, 3, 3, 1]);
  });

  it('keeps up to its bound of round trips under way, each with the requests that waited', async () => {
    const gates = [deferred(), deferred()];
    const groups: string[][] = [];
    const commit = new GroupCommit<string, string>(
      async (items) => {
        groups.push(items);
        await gates[groups.length - 1]?.released;
        return items;
      },
      { maxInFlight: 2 },
    );
    const all = ['a', 'b', 'c', 'd'].map((item) => commit.submit(item));
    // Two round trips set out at once; the rest wait for the first of them to end.
    expect(groups).toEqual([['a'], ['b']]);
    gates[1]!.release();
    gates[0]!.release();
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'd']);
    expect(groups).toEqual([['a'], ['b'], ['c', 'd']]);
  });

  it('lingers before a round trip that follows a shared one, so that requests arriving meanwhile join it', async () => {
    const groups: number[][] = [];
    const gate = deferred();
    const commit = new GroupCommit<number, number>(
      async (items) => {
        groups.push(items);
        if (groups.length === 1) await gate.released;
        return items;
      },
      { lingerMs: 20 },
    );
    const first = commit.submit(1);
    const shared = [commit.submit(2), commit.submit(3)];
    gate.release();
    await Promise.all([first, ...shared]);
    // The round trip of 2 and 3 was shared: 4 waits, and 5, arriving within the linger, joins it.
    const four = commit.submit(4);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const five = commit.submit(5);
    expect(await Promise.all([four, five])).toEqual([4, 5]);
    expect(groups).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('never makes a quiet store wait', async () => {
    const commit = new GroupCommit<number, number>(async (items) => items, { lingerMs: 10_000 });
    const started = Date.now();
    for (const item of [1, 2, 3]) expect(await commit.submit(item)).toBe(item);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
