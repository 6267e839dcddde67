import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Every process the benchmark starts is registered here and killed when the benchmark ends, however
 * it ends: a phase that times out or throws must not leave a gateway or a consumer behind.
 */
const running = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

process.once('exit', killAllChildren);

export interface NodeProcessOptions {
  script: string;
  env: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  /** The script's own arguments. */
  args?: string[];
  /** Keep the output to print it when the process fails; otherwise it is discarded. */
  captureOutput?: boolean;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Peak resident memory so far, from the kernel's high-water mark (VmHWM), in MB. */
  peakRssMb(): number;
  /** Current resident memory, in MB. */
  rssMb(): number;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not ended after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

function statusField(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (pid === undefined) return 0;
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match?.[1] ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export function startNodeProcess(options: NodeProcessOptions): NodeProcess {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])],
    {
      env: options.env,
      stdio: ['ignore', options.captureOutput ? 'pipe' : 'ignore', options.captureOutput ? 'pipe' : 'ignore'],
    },
  );
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  // The high-water mark disappears with the process: remember the last reading.
  let lastPeak = 0;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    output: () => output,
    peakRssMb() {
      if (alive()) lastPeak = Math.max(lastPeak, statusField(child.pid, 'VmHWM'));
      return lastPeak;
    },
    rssMb: () => (alive() ? statusField(child.pid, 'VmRSS') : 0),
    kill(signal) {
      if (alive()) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (!alive()) return;
      lastPeak = Math.max(lastPeak, statusField(child.pid, 'VmHWM'));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls a URL until it answers 200, failing early when the process dies. */
export async function waitForHttp(url: string, process: NodeProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`process for ${url} exited during start-up:\n${process.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${process.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
