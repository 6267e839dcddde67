import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A name no other test in this run uses: for consumer groups, databases and collections. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: integration tests run under the jest global setup');
  return brokers.split(',');
}

/** The test store's URL with a database of this test's own. */
export function mongoUrlFor(database: string): string {
  const url = process.env.MONGO_URL;
  if (!url) throw new Error('MONGO_URL is not set: integration tests run under the jest global setup');
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Polls until `check` passes or the time is up; waits on progress, never on a fixed sleep. */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs = 10_000,
  everyMs = 50,
  isFinal: (error: unknown) => boolean = () => false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (isFinal(error)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The process behind a port, so that a wait for it ends when it does, with what it printed. */
export interface WatchedProcess {
  child: ChildProcess;
  output: () => string;
}

/**
 * Resolves once the service on `port` answers /healthz with 200 (its store and broker answer too).
 * Given the service's process, fails as soon as that process ends, and says what it printed last.
 */
export async function untilHealthy(
  port: number,
  timeoutMs = 90_000,
  watched?: WatchedProcess,
): Promise<void> {
  const lastWords = () => (watched ? `; it printed last:\n${watched.output().slice(-4000)}` : '');
  await eventually(
    async () => {
      const child = watched?.child;
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        const end = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
        throw new UnhealthyProcess(
          `the service for ${port} ended (${end}) before it was healthy${lastWords()}`,
        );
      }
      const status = (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status;
      if (status !== 200)
        throw new Error(`/healthz on ${port} answered ${status ?? 'nothing'}${lastWords()}`);
    },
    timeoutMs,
    250,
    (error) => error instanceof UnhealthyProcess,
  );
}

class UnhealthyProcess extends Error {}

/** Resolves once the child process has ended, at once if it already has. */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
