import { Agent, request } from 'node:http';
import type { WirePush } from './push-corpus';

export interface PushAnswer {
  status: number;
  /** Milliseconds from sending to the full answer; 0 status means the connection failed. */
  ms: number;
}

/**
 * Sends single pushes the way WeChat's servers do: one request per push over kept-alive connections,
 * each answer awaited and returned to the caller (the fault phases count outcomes with it, the
 * steady load times it).
 */
export class PushSender {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly origin: string,
    options: { maxSockets?: number; timeoutMs?: number } = {},
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  send(push: WirePush): Promise<PushAnswer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const req = request(
        `${this.origin}${push.path}`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(push.body) },
          timeout: this.timeoutMs,
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        },
      );
      req.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
      req.once('timeout', () => req.destroy());
      req.end(push.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Calls `send(i)` for i = 0 … total-1 at `perSecond`, on a 10 ms tick that catches up with the
 * schedule, and resolves when every call has settled.
 */
export async function atFixedRate(
  perSecond: number,
  total: number,
  send: (index: number) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond));
      while (next < due) inFlight.push(send(next++));
      if (next >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  await Promise.all(inFlight);
}

/**
 * Starts `send(i)` at `perSecond` while `going()` says so, never more than `maxInFlight` at once: a
 * start the cap holds back is skipped, not queued, so a slow server sees the rate it can take and
 * the run ends on time. Resolves with how many were started, once all of them have settled.
 */
export async function atRateWhile(
  perSecond: number,
  maxInFlight: number,
  going: () => boolean,
  send: (index: number) => Promise<void>,
): Promise<{ started: number; heldBack: number }> {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      if (!going()) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      for (; scheduled < due; scheduled++) {
        if (inFlight.size >= maxInFlight) continue;
        const sending = send(next++).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
      }
    }, 10);
  });
  await Promise.all(inFlight);
  return { started: next, heldBack: scheduled - next };
}

/** Runs `work(i)` for i = 0 … total-1 with at most `concurrency` running at once. */
export async function withConcurrency(
  concurrency: number,
  total: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await work(i);
    }),
  );
}
