import { parentPort, workerData } from 'node:worker_threads';
import { PushSender } from './push-sender';
import type { SteadyLoadJob, SteadyLoadOutcome } from './steady-load';

// The sender runs on a thread of its own, so that the bench process's own work (collecting
// figures, garbage collection) does not delay a push past its time and count against the server.
const job = workerData as SteadyLoadJob;
const sender = new PushSender(job.origin, { maxSockets: job.connections, timeoutMs: job.timeoutMs });
const total = Math.min(job.pushes.length, Math.round(job.perSecond * job.seconds));
const intervalMs = 1000 / job.perSecond;
const latencies = new Float64Array(total);
const statuses = new Uint16Array(total);
let sent = 0;
let settled = 0;
const started = performance.now();

function send(index: number, due: number): void {
  void sender.send(job.pushes[index]!).then(({ status }) => {
    latencies[index] = performance.now() - due;
    statuses[index] = status;
    settled += 1;
    if (settled === total) finish();
  });
}

function finish(): void {
  sender.close();
  const outcome: SteadyLoadOutcome = {
    seconds: (performance.now() - started) / 1000,
    latencies: [...latencies],
    statuses: [...statuses],
  };
  parentPort!.postMessage(outcome);
}

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
