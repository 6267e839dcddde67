/**
 * How big a run is. `npm run bench` runs at 1 (the sizes the issue names); BENCH_SCALE=0.05 or
 * `--quick` shrinks durations and event counts for a run while developing, and the report says so.
 */
export interface BenchScale {
  factor: number;
  /** Seconds, never below a floor that still gives meaningful percentiles. */
  seconds(full: number, floor?: number): number;
  count(full: number, floor?: number): number;
}

export function benchScale(argv = process.argv, env = process.env): BenchScale {
  const given = argv.includes('--quick') ? 0.05 : Number(env.BENCH_SCALE ?? 1);
  const factor = Number.isFinite(given) && given > 0 ? Math.min(given, 1) : 1;
  return {
    factor,
    seconds: (full, floor = 3) => Math.max(floor, Math.round(full * factor)),
    count: (full, floor = 100) => Math.max(floor, Math.round(full * factor)),
  };
}
