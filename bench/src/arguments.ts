/**
 * What `npm run bench` is asked to do. A full run takes the best part of an hour, so a word it does
 * not know stops it before anything starts, instead of being taken for a full run.
 */
export interface BenchArguments {
  help: boolean;
  /** BENCHMARKS.md again from bench/results.json: nothing measured. */
  reportOnly: boolean;
  /** The phases to run, in the run's own order; all when absent. */
  only?: string[];
  /** 1 for the sizes the issues name; `--quick` or BENCH_SCALE for less. */
  scaleFactor: number;
  /** BENCH_REPLAY_EVENTS: the replay's size whatever the scale. */
  replayEvents?: number;
}

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export const QUICK_SCALE = 0.05;

export function benchUsage(phaseIds: readonly string[]): string {
  return [
    'usage: npm run bench [-- <option>…]',
    '  (none)             every phase at full size; rewrites BENCHMARKS.md and bench/results.json',
    `  --quick            every size at ${QUICK_SCALE} (same as BENCH_SCALE=${QUICK_SCALE}); written to .data/bench/`,
    '  --only=<id,…>      only these phases; written to .data/bench/',
    '  --report-only      BENCHMARKS.md again from bench/results.json and bench/analysis.md',
    '  --help             this text',
    `phases: ${phaseIds.join(', ')}`,
    'environment: BENCH_SCALE (above 0, at most 1), BENCH_REPLAY_EVENTS (a whole number of events)',
  ].join('\n');
}

export function benchArguments(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  phaseIds: readonly string[],
): BenchArguments {
  const problems: string[] = [];
  let help = false;
  let reportOnly = false;
  let quick = false;
  let only: string[] | undefined;
  for (const argument of argv) {
    if (argument === '--help' || argument === '-h') help = true;
    else if (argument === '--report-only') reportOnly = true;
    else if (argument === '--quick') quick = true;
    else if (argument.startsWith('--only=')) {
      const named = argument
        .slice('--only='.length)
        .split(',')
        .filter((id) => id !== '');
      const unknown = named.filter((id) => !phaseIds.includes(id));
      if (named.length === 0) problems.push('--only names no phase');
      else if (unknown.length > 0) problems.push(`--only: no phase is called ${unknown.join(', ')}`);
      else only = phaseIds.filter((id) => named.includes(id));
    } else problems.push(`unknown argument ${argument}`);
  }

  let scaleFactor = 1;
  if (env.BENCH_SCALE !== undefined) {
    const given = Number(env.BENCH_SCALE);
    if (env.BENCH_SCALE.trim() === '' || !(given > 0 && given <= 1))
      problems.push('BENCH_SCALE must be a number above 0 and at most 1');
    else scaleFactor = given;
  }
  if (quick) scaleFactor = QUICK_SCALE;

  let replayEvents: number | undefined;
  if (env.BENCH_REPLAY_EVENTS !== undefined) {
    const given = Number(env.BENCH_REPLAY_EVENTS);
    if (!/^\d+$/.test(env.BENCH_REPLAY_EVENTS.trim()) || !(given >= 100))
      problems.push('BENCH_REPLAY_EVENTS must be a whole number of events, at least 100');
    else replayEvents = given;
  }

  if (reportOnly && (quick || only))
    problems.push('--report-only measures nothing, so it takes neither --quick nor --only');
  if (problems.length > 0 && !help) throw new BenchUsageError(problems);
  return {
    help,
    reportOnly,
    scaleFactor,
    ...(only ? { only } : {}),
    ...(replayEvents ? { replayEvents } : {}),
  };
}
