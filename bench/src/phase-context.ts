import type { BenchAccounts } from './bench-accounts';
import type { BenchStack } from './bench-stack';
import type { BenchScale } from './scale';

/** Peak RSS per process and load, gathered by every phase for the memory table. */
export class MemoryRecord {
  readonly peaks: { process: string; load: string; peakMb: number }[] = [];

  record(process: string, load: string, peakMb: number): void {
    if (peakMb > 0) this.peaks.push({ process, load, peakMb });
  }
}

export interface PhaseContext {
  stack: BenchStack;
  accounts: BenchAccounts;
  scale: BenchScale;
  /** BENCH_REPLAY_EVENTS: the replay's size whatever the scale. */
  replayEvents?: number;
  memory: MemoryRecord;
  log(line: string): void;
}
