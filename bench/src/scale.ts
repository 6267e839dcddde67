/**
 * How big a run is. `npm run bench` runs at 1 (the sizes the issue names); BENCH_SCALE=0.05 or
 * `--quick` shrinks durations and event counts for a run while developing, and the report says so
 * (read and checked in arguments.ts).
 */
export interface BenchScale {
  factor: number;
  /** Seconds, never below a floor that still gives meaningful percentiles. */
  seconds(full: number, floor?: number): number;
  count(full: number, floor?: number): number;
}

export function benchScale(factor: number): BenchScale {
  return {
    factor,
    seconds: (full, floor = 3) => Math.max(floor, Math.round(full * factor)),
    count: (full, floor = 100) => Math.max(floor, Math.round(full * factor)),
  };
}
