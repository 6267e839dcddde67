import type { PhaseContext } from './phase-context';
import { percentile } from './percentiles';
import { distinctFollows } from './push-corpus';
import { atFixedRate, PushSender } from './push-sender';
import { FollowCountWatcher } from './follow-count-watcher';
import { fixed, whole, type PhaseResult } from './results';
import {
  consumerCapacity,
  gatewaySealing,
  type ConsumerCapacity,
  type GatewaySealing,
} from './consumer-metrics';
import { BENCH_PRIVACY_KEY, startPushPipeline } from './push-pipeline';
import { processCpuSeconds, processGroupCpuSeconds } from './cpu-time';

const RATE = 1000;

/**
 * From a push sent to the gateway to its follower visible in the subscribers read model, at 1,000
 * pushes/s: gateway and subscriber projection as their own processes over the real broker and store.
 */
export async function endToEndLatency(context: PhaseContext): Promise<PhaseResult> {
  const { scale, log, accounts } = context;
  const started = Date.now();
  const seconds = scale.seconds(60, 10);
  const total = RATE * seconds;
  const { gateway, projection, mongoUrl } = await startPushPipeline(context, 'e2e');
  const sender = new PushSender(gateway.url);
  const account = accounts.plain;
  const watcher = await FollowCountWatcher.connect(mongoUrl, account.appId, BENCH_PRIVACY_KEY);
  const pushes = distinctFollows(account, total, 'e2e');
  const warmUpSeconds = scale.seconds(5, 2);
  const warmUpPushes = distinctFollows(account, RATE * warmUpSeconds, 'e2ewarmup');
  const warmUpAnswerMs: number[] = [];
  const answerMs: number[] = [];
  const visibleMs: number[] = [];
  let refused = 0;
  let neverSeen = 0;
  let projectionCapacity: ConsumerCapacity | undefined;
  let sealing: GatewaySealing | undefined;
  let cpu: { gatewayUs: number; brokerUs: number; projectionUs: number } | undefined;
  const cpuReadings = () => ({
    gateway: processCpuSeconds(gateway.process.child.pid),
    projection: processCpuSeconds(projection.process.child.pid),
    broker: processGroupCpuSeconds(context.stack.brokerProcessGroup),
  });
  try {
    // The projection's group joins and gets its partitions first: the figure is the steady state,
    // not the start-up.
    const warmUp = distinctFollows(account, 1, 'e2ewarm')[0];
    if (!warmUp || (await sender.send(warmUp)).status !== 200)
      throw new Error('the warm-up push was refused');
    await withinSeconds(watcher.visible('oe2ewarm0'), 60);
    // A fresh gateway answers its first seconds of load slowly (its code not yet optimised by the
    // JIT, its connections to the broker and the load generator's being opened) and the backlog
    // takes seconds to drain: a warm-up at the same rate, reported but not counted.
    log(`e2e: warm-up, ${whole(warmUpPushes.length)} follows at ${RATE}/s`);
    await atFixedRate(RATE, warmUpPushes.length, async (i) => {
      const push = warmUpPushes[i];
      if (!push) return;
      const answer = await sender.send(push);
      warmUpAnswerMs.push(answer.ms);
      if (answer.status === 200) await withinSeconds(watcher.visible(`oe2ewarmup${i}`), 60);
    });
    log(`e2e: ${whole(total)} follows at ${RATE}/s`);
    const appliedBefore = (await consumerCapacity(projection.url))?.applied ?? 0;
    const cpuBefore = cpuReadings();
    await atFixedRate(RATE, total, async (i) => {
      const push = pushes[i];
      if (!push) return;
      const sent = performance.now();
      const answer = await sender.send(push);
      answerMs.push(answer.ms);
      if (answer.status !== 200) {
        refused++;
        return;
      }
      const seenAt = await withinSeconds(watcher.visible(`oe2e${i}`), 60);
      if (seenAt === undefined) neverSeen++;
      else visibleMs.push(seenAt - sent);
    });
    const cpuAfter = cpuReadings();
    const applied = ((await consumerCapacity(projection.url))?.applied ?? 0) - appliedBefore;
    const accepted = total - refused;
    cpu = {
      gatewayUs: (1e6 * (cpuAfter.gateway - cpuBefore.gateway)) / Math.max(1, accepted),
      brokerUs: (1e6 * (cpuAfter.broker - cpuBefore.broker)) / Math.max(1, accepted),
      projectionUs: (1e6 * (cpuAfter.projection - cpuBefore.projection)) / Math.max(1, applied),
    };
  } finally {
    projectionCapacity = await consumerCapacity(projection.url);
    sealing = await gatewaySealing(gateway.url);
    sender.close();
    await watcher.close();
    context.memory.record('gateway', `${RATE} pushes/s for ${seconds} s (end to end)`, gateway.peakRssMb());
    context.memory.record(
      'subscriber-projection',
      `${RATE} follows/s for ${seconds} s`,
      projection.peakRssMb(),
    );
    await gateway.stop();
    await projection.stop();
  }
  const p99 = percentile(visibleMs, 99);
  log(`e2e: visible p50 ${fixed(percentile(visibleMs, 50))} ms, p99 ${fixed(p99)} ms`);
  return {
    id: 'e2e',
    title: '2. End to end: push → follower visible in the read model',
    setup: [
      `${whole(total)} distinct signed follows sent at ${RATE}/s for ${seconds} s over kept-alive connections to the gateway (its own process, acks=all), read by the subscriber projection (its own process) into the subscribers collection, after a warm-up of ${warmUpSeconds} s at the same rate that is not counted (a fresh gateway's first second of load is slow and its backlog takes a few seconds to drain; the warm-up's answer times are in the table).`,
      "Visible: the account's per-partition follower counts in the read model are read every 5 ms; the n-th follow answered success on a partition is visible once that partition counts n follows (a partition's log keeps the order the broker acknowledged in; the projection writes a batch's counts just before its users). Reading a dozen small documents keeps the measurement off the store, which a lookup per push would load.",
    ],
    figures: [
      {
        name: `push → visible p99 at ${RATE}/s`,
        value: `${fixed(p99)} ms (p50 ${fixed(percentile(visibleMs, 50))}, max ${fixed(Math.max(0, ...visibleMs))})`,
        target: '≤ 150 ms',
        met: p99 <= 150 && neverSeen === 0 && refused === 0,
      },
      {
        name: `warm-up before it (${warmUpSeconds} s at ${RATE}/s, not counted): gateway answer`,
        value: `p50 ${fixed(percentile(warmUpAnswerMs, 50))} ms, p99 ${fixed(percentile(warmUpAnswerMs, 99))} ms`,
      },
      {
        name: 'gateway answer (push → success)',
        value: `p50 ${fixed(percentile(answerMs, 50))} ms, p99 ${fixed(percentile(answerMs, 99))} ms`,
      },
      {
        name: "the gateway's sealing (a data key stored per follow), mean of all pushes",
        value: sealing
          ? `${fixed(sealing.sealMs, 1)} ms of the ${fixed(sealing.storedMs, 1)} ms from a verified push to its event stored`
          : 'metrics not read',
      },
      {
        name: 'CPU per push at this rate (/proc, user and system): gateway, broker; subscriber projection per event applied',
        value: cpu
          ? `${whole(cpu.gatewayUs)} µs, ${whole(cpu.brokerUs)} µs; ${whole(cpu.projectionUs)} µs`
          : 'not measured',
      },
      { name: 'pushes refused or failed; follows never counted', value: `${refused}; ${neverSeen}` },
      {
        name: 'subscriber projection during the run',
        value: projectionCapacity
          ? `${whole(projectionCapacity.applied)} events applied in ${whole(projectionCapacity.calls)} calls (${fixed(projectionCapacity.applied / projectionCapacity.calls, 1)} events, ${fixed(projectionCapacity.msPerCall, 2)} ms each; up to four calls run at once)`
          : 'metrics not read',
      },
    ],
    tables: [],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}

/** The promise's value, or undefined when it has not settled within the time. */
function withinSeconds<T>(promise: Promise<T>, seconds: number): Promise<T | undefined> {
  return Promise.race([
    promise,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), seconds * 1000).unref()),
  ]);
}
