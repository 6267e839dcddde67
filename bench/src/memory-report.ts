import type { MemoryRecord } from './phase-context';
import { fixed, type PhaseResult } from './results';

/** The peak RSS every phase recorded, one row per process and load. */
export function memoryPhase(memory: MemoryRecord): PhaseResult {
  return {
    id: 'memory',
    title: '6. Memory',
    setup: [
      "Peak resident set size (the kernel's VmHWM of each process, read just before it stops), under the load of each phase above.",
    ],
    figures: [],
    tables: [
      {
        headers: ['process', 'load', 'peak RSS MB'],
        rows: memory.peaks.map((p) => [p.process, p.load, fixed(p.peakMb)]),
      },
    ],
    notes: [],
    seconds: 0,
  };
}
