import { BatchGatherer } from '../src/batch-gatherer';

interface Call {
  events: number[];
  release(): void;
  fail(error: Error): void;
}

/** A gatherer whose applies wait until the test releases them, so groups in flight can be seen. */
function rig(options: { concurrentGroups?: number; groupEvents?: number; commitFails?: boolean } = {}) {
  const applies: Call[] = [];
  const commits: string[][] = [];
  const failures: number[] = [];
  const gatherer = new BatchGatherer<number, string>({
    apply: (events) =>
      new Promise<void>((resolve, reject) => {
        applies.push({ events, release: resolve, fail: reject });
      }),
    commit: async (positions) => {
      if (options.commitFails) throw new Error('broker gone');
      commits.push(positions);
    },
    onFailure: (_error, batches) => failures.push(batches),
    concurrentGroups: options.concurrentGroups ?? 4,
    groupEvents: options.groupEvents ?? 1000,
  });
  return { gatherer, applies, commits, failures };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('gathering the batches of a fetch', () => {
  it('applies the batches handed over in one turn in one call, and commits them in one', async () => {
    const { gatherer, applies, commits } = rig();
    const settled = [
      gatherer.add('t', [1, 2], 'p0@2'),
      gatherer.add('t', [3], 'p1@1'),
      gatherer.add('t', [4, 5, 6], 'p2@3'),
    ];
    await turn();
    expect(applies.map((a) => a.events)).toEqual([[1, 2, 3, 4, 5, 6]]);
    applies[0]?.release();
    await expect(Promise.all(settled)).resolves.toEqual([true, true, true]);
    expect(commits).toEqual([['p0@2', 'p1@1', 'p2@3']]);
  });

  it('caps a group by its events, never splits a batch, and keeps at most the set number in flight', async () => {
    const { gatherer, applies } = rig({ concurrentGroups: 2, groupEvents: 4 });
    const settled = [
      gatherer.add('t', range(0, 3), 'a'),
      gatherer.add('t', range(10, 3), 'b'),
      gatherer.add('t', range(20, 9), 'c'),
      gatherer.add('t', [30], 'd'),
    ];
    await turn();
    expect(applies.map((a) => a.events)).toEqual([range(0, 3), range(10, 3)]);
    expect(gatherer.groupsInFlight).toBe(2);
    applies[0]?.release();
    await turn();
    // The nine-event batch exceeds the cap alone and is applied whole, in a group of its own.
    expect(applies.map((a) => a.events.length)).toEqual([3, 3, 9]);
    applies[1]?.release();
    await turn();
    expect(applies[3]?.events).toEqual([30]);
    applies[2]?.release();
    applies[3]?.release();
    await expect(Promise.all(settled)).resolves.toEqual([true, true, true, true]);
    expect(gatherer.groupsInFlight).toBe(0);
  });

  it('gathers what arrives while every group is in flight into the next group', async () => {
    const { gatherer, applies } = rig({ concurrentGroups: 1 });
    const first = gatherer.add('t', [1], 'p0@1');
    await turn();
    const later = [gatherer.add('t', [2], 'p1@1'), gatherer.add('t', [3], 'p2@1')];
    await turn();
    expect(applies).toHaveLength(1);
    applies[0]?.release();
    await first;
    await turn();
    expect(applies[1]?.events).toEqual([2, 3]);
    applies[1]?.release();
    await expect(Promise.all(later)).resolves.toEqual([true, true]);
  });

  it('never puts the batches of two topics in one group', async () => {
    const { gatherer, applies } = rig();
    const settled = [
      gatherer.add('a', [1], 'a0'),
      gatherer.add('b', [2], 'b0'),
      gatherer.add('a', [3], 'a1'),
    ];
    await turn();
    expect(applies.map((a) => a.events)).toEqual([[1, 3], [2]]);
    for (const apply of applies) apply.release();
    await expect(Promise.all(settled)).resolves.toEqual([true, true, true]);
  });

  it('hands every batch of a group that failed to apply back to its caller, committing nothing', async () => {
    const { gatherer, applies, commits, failures } = rig();
    const settled = [gatherer.add('t', [1], 'p0@1'), gatherer.add('t', [2], 'p1@1')];
    await turn();
    applies[0]?.fail(new Error('store refused'));
    await expect(Promise.all(settled)).resolves.toEqual([false, false]);
    expect(commits).toEqual([]);
    expect(failures).toEqual([2]);
    expect(gatherer.groupsInFlight).toBe(0);
  });

  it('hands the batches back when their commit fails, so that nothing is taken as done', async () => {
    const { gatherer, applies, failures } = rig({ commitFails: true });
    const settled = [gatherer.add('t', [1], 'p0@1'), gatherer.add('t', [2], 'p1@1')];
    await turn();
    applies[0]?.release();
    await expect(Promise.all(settled)).resolves.toEqual([false, false]);
    expect(failures).toEqual([2]);
  });

  it('refuses limits below one', () => {
    expect(() => rig({ concurrentGroups: 0 })).toThrow(/concurrentGroups/);
    expect(() => rig({ groupEvents: 0 })).toThrow(/groupEvents/);
  });
});
