import { BenchUsageError, QUICK_SCALE, benchArguments, benchUsage } from '../src/arguments';

const phases = ['kills', 'replay', 'gateway', 'e2e'];
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => benchArguments(argv, env, phases);
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parse(argv, env);
  } catch (error) {
    if (error instanceof BenchUsageError) return error.problems;
    throw error;
  }
  throw new Error('the arguments were accepted');
};

describe('the arguments of a benchmark run', () => {
  it('are a full run at full size when there are none', () => {
    expect(parse([])).toEqual({ help: false, reportOnly: false, scaleFactor: 1 });
  });

  it('take the phases of --only in the run’s own order, and the quick scale', () => {
    expect(parse(['--only=e2e,kills', '--quick'])).toMatchObject({
      only: ['kills', 'e2e'],
      scaleFactor: QUICK_SCALE,
    });
  });

  it('take BENCH_SCALE and BENCH_REPLAY_EVENTS from the environment', () => {
    expect(parse([], { BENCH_SCALE: '0.2', BENCH_REPLAY_EVENTS: '1000000' })).toMatchObject({
      scaleFactor: 0.2,
      replayEvents: 1_000_000,
    });
  });

  it('refuse a word they do not know instead of taking it for a full run', () => {
    expect(problemsOf(['--hlep'])).toEqual(['unknown argument --hlep']);
  });

  it('refuse a phase that does not exist, and an --only naming none', () => {
    expect(problemsOf(['--only=gateway,gatway'])).toEqual(['--only: no phase is called gatway']);
    expect(problemsOf(['--only='])).toEqual(['--only names no phase']);
  });

  it('refuse a scale or a replay size that is not one, a line for each', () => {
    expect(problemsOf(['--bogus'], { BENCH_SCALE: 'fast', BENCH_REPLAY_EVENTS: '1e6' })).toEqual([
      'unknown argument --bogus',
      'BENCH_SCALE must be a number above 0 and at most 1',
      'BENCH_REPLAY_EVENTS must be a whole number of events, at least 100',
    ]);
    expect(problemsOf([], { BENCH_SCALE: '2' })).toHaveLength(1);
    expect(problemsOf([], { BENCH_SCALE: '' })).toHaveLength(1);
    expect(problemsOf([], { BENCH_REPLAY_EVENTS: '10' })).toHaveLength(1);
  });

  it('refuse to measure and only render at once', () => {
    expect(problemsOf(['--report-only', '--only=gateway'])).toEqual([
      '--report-only measures nothing, so it takes neither --quick nor --only',
    ]);
  });

  it('answer --help with the usage, which names every phase', () => {
    expect(parse(['--help', '--hlep']).help).toBe(true);
    expect(benchUsage(phases)).toContain('phases: kills, replay, gateway, e2e');
  });
});
