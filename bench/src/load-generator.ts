import autocannon from 'autocannon';
import type { WirePush } from './push-corpus';

export interface LoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080. */
  origin: string;
  pushes: WirePush[];
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests instead of after the duration. */
  amount?: number;
  /** Requests per second over all connections; unset means as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  answered: number;
  non2xx: number;
  errors: number;
  /** Requests beyond the corpus, which went out a second time (the gateway collapses them). */
  reused: number;
}

/**
 * Drives signed pushes over loopback with autocannon. Every request takes the next push of the
 * corpus, so no two connections send the same push while the corpus lasts.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: options.origin,
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.amount ? { amount: options.amount } : {}),
    timeout: 10,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        setupRequest: (request) => {
          const push = options.pushes[next++ % options.pushes.length];
          return { ...request, path: push?.path ?? '/', body: push?.body ?? '' };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    answered: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    reused: Math.max(0, next - options.pushes.length),
  };
}
