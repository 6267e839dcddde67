import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadResult } from './load-generator';
import { percentile } from './percentiles';
import type { WirePush } from './push-corpus';

/**
 * Pushes at an even rate, each sent at its own time whatever the answers before it (an open loop,
 * as WeChat's servers push), the latency of each taken from the time it was due. autocannon's rate
 * limit is not that: each connection sends its share of a second back to back at the top of the
 * second and then waits, so "1,000/s over 50 connections" is 50 requests at a time until the
 * second's thousand are done; its latency correction then adds a sample for every millisecond of
 * each answer (it takes 1 ms as the time between requests).
 */
export interface SteadyLoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080. */
  origin: string;
  /** One push per request, in order; the run sends `perSecond × seconds` of them at most. */
  pushes: WirePush[];
  perSecond: number;
  seconds: number;
  /** Connections kept open at most; a push finding all busy waits for one, and its wait counts. */
  connections: number;
  timeoutMs?: number;
}

export interface SteadyLoadJob {
  origin: string;
  pushes: { path: string; body: string }[];
  perSecond: number;
  seconds: number;
  connections: number;
  timeoutMs: number;
}

export interface SteadyLoadOutcome {
  seconds: number;
  latencies: number[];
  statuses: number[];
}

export async function runSteadyLoad(options: SteadyLoadOptions): Promise<LoadResult> {
  const needed = Math.round(options.perSecond * options.seconds);
  if (options.pushes.length < needed)
    throw new Error(`a steady load of ${needed} pushes was given only ${options.pushes.length}`);
  const job: SteadyLoadJob = {
    origin: options.origin,
    pushes: options.pushes.slice(0, needed).map(({ path, body }) => ({ path, body })),
    perSecond: options.perSecond,
    seconds: options.seconds,
    connections: options.connections,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const outcome = await new Promise<SteadyLoadOutcome>((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'steady-load-worker.js'), { workerData: job });
    worker.once('message', (message: SteadyLoadOutcome) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the steady load's thread ended (code ${code})`)));
  });
  const answered = outcome.statuses.filter((status) => status !== 0);
  const ok = outcome.latencies.filter((_, n) => {
    const status = outcome.statuses[n]!;
    return status >= 200 && status < 300;
  });
  return {
    requestsPerSecond: answered.length / outcome.seconds,
    p50Ms: percentile(ok, 50),
    p99Ms: percentile(ok, 99),
    maxMs: ok.reduce((max, ms) => Math.max(max, ms), 0),
    answered: answered.length,
    non2xx: answered.filter((status) => status < 200 || status >= 300).length,
    errors: outcome.statuses.length - answered.length,
    reused: 0,
  };
}
