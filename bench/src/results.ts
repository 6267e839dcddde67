/** One measured figure of a phase, with its target when the issue sets one. */
export interface Figure {
  name: string;
  value: string;
  target?: string;
  /** Undefined when the figure has no target. */
  met?: boolean;
}

export interface Table {
  headers: string[];
  rows: string[][];
}

export interface PhaseResult {
  id: string;
  title: string;
  /** What was run, at which size: enough to repeat it by hand. */
  setup: string[];
  figures: Figure[];
  tables: Table[];
  notes: string[];
  seconds: number;
  /** Set when the phase failed or ran out of time; its figures are what was measured before. */
  error?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  store: string;
}

export interface RunResults {
  command: string;
  startedAt: string;
  seconds: number;
  scale: number;
  machine: MachineInfo;
  phases: PhaseResult[];
}

export const fixed = (value: number, digits = 1): string => value.toFixed(digits);
export const whole = (value: number): string => Math.round(value).toLocaleString('en-US');
export const ratio = (value: number, base: number): string => (base > 0 ? (value / base).toFixed(2) : 'n/a');
