import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { SteadyLoadJob, SteadyLoadOutcome } from './steady-load';

// The sender runs on a thread of its own, so that the bench process's own work (collecting
// figures, garbage collection) does not delay a push past its time and count against the server.
const job = workerData as SteadyLoadJob;
const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
const total = Math.min(job.pushes.length, Math.round(job.perSecond * job.seconds));
const intervalMs = 1000 / job.perSecond;
const latencies = new Float64Array(total);
const statuses = new Uint16Array(total);
let sent = 0;
let settled = 0;
let started = 0;

function send(index: number, due: number): void {
  const push = job.pushes[index]!;
  const done = (status: number) => {
    latencies[index] = performance.now() - due;
    statuses[index] = status;
    settled += 1;
    if (settled === total) finish();
  };
  const req = request(
    `${job.origin}${push.path}`,
    {
      method: 'POST',
      agent,
      headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(push.body) },
      timeout: job.timeoutMs,
    },
    (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode ?? 0));
      res.once('error', () => done(0));
    },
  );
  req.once('error', () => done(0));
  req.once('timeout', () => req.destroy());
  req.end(push.body);
}

function finish(): void {
  const outcome: SteadyLoadOutcome = {
    seconds: (performance.now() - started) / 1000,
    latencies: [...latencies],
    statuses: [...statuses],
  };
  agent.destroy();
  parentPort!.postMessage(outcome);
}

started = performance.now();
if (total === 0) finish();
// Each push is due at its own time, whether or not the answers before it have come: the latency
// runs from that time, so a server that falls behind is charged for the wait it causes.
const tick = setInterval(() => {
  const now = performance.now();
  for (; sent < total; sent++) {
    const due = started + sent * intervalMs;
    if (due > now) break;
    send(sent, due);
  }
  if (sent >= total) clearInterval(tick);
}, 1);
