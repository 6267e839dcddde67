import type { Account } from '@wxp/accounts';
import {
  startCeilingServer,
  startNodeWebotServer,
  startUnsealedGateway,
  type BaselineServer,
} from './baseline-servers';
import { runLoad, type LoadResult } from './load-generator';
import { runSteadyLoad } from './steady-load';
import type { PhaseContext } from './phase-context';
import { distinctFollows } from './push-corpus';
import { fixed, ratio, whole, type Figure, type PhaseResult } from './results';
import { gatewayEnvironment } from './push-pipeline';
import { startService } from './services';
import { cpuDuring, processGroupCpuSeconds } from './cpu-time';

const FIXED_RATE = 2000;
const SEALED = 'gateway (acks=all)';
const UNSEALED = 'gateway without sealing (same code, seal step removed)';
const CONNECTIONS = 50;
const WEBOT = 'wechat middleware (node-webot)';

interface Target {
  name: string;
  start(
    account: Account,
  ): Promise<{ origin: string; pid?: number; stop(): Promise<void>; peakRssMb(): number }>;
}

/** CPU seconds spent over a load, in µs per push it answered 2xx. */
function microsecondsPerAnswered(seconds: number, load: LoadResult): number {
  return (1e6 * seconds) / Math.max(1, load.answered - load.non2xx - load.errors);
}

function fromBaseline(server: BaselineServer) {
  return {
    origin: server.origin,
    ...(server.process.child.pid !== undefined ? { pid: server.process.child.pid } : {}),
    stop: () => server.process.stop(),
    peakRssMb: () => server.process.peakRssMb(),
  };
}

/**
 * Requests/s and latency of four servers answering the same signed pushes over loopback: koa doing
 * nothing (the ceiling), the node-webot middleware (verifying and parsing, no broker), and the
 * gateway (verifying, parsing and waiting for acks=all from the real broker), with and without
 * sealing. Each runs flat out,
 * then at a fixed 2,000 pushes/s.
 */
export async function gatewayThroughput(context: PhaseContext): Promise<PhaseResult> {
  const { scale, log } = context;
  const started = Date.now();
  const maxSeconds = scale.seconds(10);
  const fixedSeconds = scale.seconds(10);
  const targets: Target[] = [
    { name: 'ceiling (bare koa)', start: async () => fromBaseline(await startCeilingServer()) },
    {
      name: WEBOT,
      start: async (a) => fromBaseline(await startNodeWebotServer(a)),
    },
    {
      name: UNSEALED,
      start: async () =>
        fromBaseline(
          await startUnsealedGateway(
            gatewayEnvironment(
              context.stack.brokers,
              context.stack.mongoUrl('bench_gateway'),
              context.accounts.file,
            ),
          ),
        ),
    },
    {
      name: SEALED,
      start: async () => {
        const gateway = await startService('gateway', {
          env: gatewayEnvironment(
            context.stack.brokers,
            context.stack.mongoUrl('bench_gateway'),
            context.accounts.file,
          ),
        });
        return {
          origin: gateway.url,
          ...(gateway.process.child.pid !== undefined ? { pid: gateway.process.child.pid } : {}),
          stop: () => gateway.stop(),
          peakRssMb: () => gateway.peakRssMb(),
        };
      },
    },
  ];
  const figures: Figure[] = [];
  const cpuPerPush = new Map<string, number>();
  const cpuPerPushAtRate = new Map<string, number>();
  const rows: string[][] = [];
  for (const mode of ['plain', 'safe'] as const) {
    const account = context.accounts[mode];
    log(`gateway: building ${mode} pushes`);
    // Enough distinct pushes that the gateway never sees one twice within its duplicate window.
    const flatOut = distinctFollows(account, scale.count(120_000, 20_000), `max${mode}`);
    const atRate = distinctFollows(account, FIXED_RATE * fixedSeconds + 2000, `rate${mode}`);
    const warmUp = distinctFollows(account, 3000, `warm${mode}`);
    const inBursts = distinctFollows(account, FIXED_RATE * fixedSeconds + 2000, `burst${mode}`);
    let ceiling: LoadResult | undefined;
    let unsealed: { max: LoadResult; rate: LoadResult } | undefined;
    for (const target of targets) {
      const server = await target.start(account);
      try {
        await runLoad({
          origin: server.origin,
          pushes: warmUp,
          connections: CONNECTIONS,
          durationSeconds: 2,
        });
        const brokerBefore = processGroupCpuSeconds(context.stack.brokerProcessGroup);
        const measured = await cpuDuring(server.pid, () =>
          runLoad({
            origin: server.origin,
            pushes: flatOut,
            connections: CONNECTIONS,
            durationSeconds: maxSeconds,
          }),
        );
        const max = measured.result;
        const brokerSeconds = processGroupCpuSeconds(context.stack.brokerProcessGroup) - brokerBefore;
        const serverUs = microsecondsPerAnswered(measured.processSeconds, max);
        // Only the gateways produce to the broker; what it spends beside the others is its idle work.
        const brokerUs = microsecondsPerAnswered(brokerSeconds, max);
        cpuPerPush.set(`${mode} ${target.name}`, serverUs);
        const measuredAtRate = await cpuDuring(server.pid, () =>
          runSteadyLoad({
            origin: server.origin,
            pushes: atRate,
            connections: CONNECTIONS,
            seconds: fixedSeconds,
            perSecond: FIXED_RATE,
          }),
        );
        const rate = measuredAtRate.result;
        // The same server's cost when pushes come one by one at their own times rather than queued.
        const serverUsAtRate = microsecondsPerAnswered(measuredAtRate.processSeconds, rate);
        cpuPerPushAtRate.set(`${mode} ${target.name}`, serverUsAtRate);
        ceiling ??= max;
        log(
          `gateway: ${mode} ${target.name}: ${whole(max.requestsPerSecond)} req/s, p99 ${max.p99Ms} ms; ` +
            `at ${FIXED_RATE}/s p99 ${fixed(rate.p99Ms)} ms`,
        );
        rows.push([
          mode,
          target.name,
          whole(max.requestsPerSecond),
          ratio(max.requestsPerSecond, ceiling.requestsPerSecond),
          fixed(max.p50Ms),
          fixed(max.p99Ms),
          fixed(max.maxMs),
          whole(rate.requestsPerSecond),
          fixed(rate.p50Ms),
          fixed(rate.p99Ms),
          fixed(rate.maxMs),
          whole(max.non2xx + max.errors + rate.non2xx + rate.errors),
          whole(max.reused + rate.reused),
          whole(serverUs),
          whole(serverUsAtRate),
          whole(brokerUs),
        ]);
        if (target.name === UNSEALED) unsealed = { max, rate };
        if (target.name === SEALED) {
          const r = max.requestsPerSecond / ceiling.requestsPerSecond;
          figures.push(
            {
              name: `${mode} pushes: gateway throughput / ceiling`,
              value: `${r.toFixed(2)} (${whole(max.requestsPerSecond)} vs ${whole(ceiling.requestsPerSecond)} req/s)`,
              target: '≥ 0.5',
              met: r >= 0.5,
            },
            {
              name: `${mode} pushes: gateway p99 at ${whole(FIXED_RATE)}/s`,
              value: `${fixed(rate.p99Ms)} ms (p50 ${fixed(rate.p50Ms)}, max ${fixed(rate.maxMs)})`,
              target: '≤ 25 ms',
              met: rate.p99Ms <= 25 && rate.non2xx + rate.errors === 0,
            },
          );
          // The earlier runs' method, for comparison: autocannon's rate, second by second in bursts.
          const bursts = await runLoad({
            origin: server.origin,
            pushes: inBursts,
            connections: CONNECTIONS,
            durationSeconds: fixedSeconds,
            overallRate: FIXED_RATE,
          });
          figures.push({
            name: `${mode} pushes: gateway p99 at ${whole(FIXED_RATE)}/s as autocannon's overallRate sends them (earlier runs)`,
            value: `${fixed(bursts.p99Ms)} ms (p50 ${fixed(bursts.p50Ms)}, max ${fixed(bursts.maxMs)})`,
          });
          const webot = cpuPerPush.get(`${mode} ${WEBOT}`);
          if (webot) {
            figures.push({
              name: `${mode} pushes: gateway CPU per acknowledged push / node-webot's per request`,
              value: `${ratio(serverUs, webot)} (${whole(serverUs)} vs ${whole(webot)} µs, flat out)`,
              target: '≤ 1.5',
              met: serverUs <= 1.5 * webot,
            });
          }
          const webotAtRate = cpuPerPushAtRate.get(`${mode} ${WEBOT}`);
          if (webotAtRate) {
            figures.push({
              name: `${mode} pushes: the same at an even ${whole(FIXED_RATE)}/s`,
              value: `${ratio(serverUsAtRate, webotAtRate)} (${whole(serverUsAtRate)} vs ${whole(webotAtRate)} µs)`,
            });
          }
          if (unsealed) {
            figures.push({
              name: `${mode} pushes: what sealing costs the gateway (sealed / unsealed)`,
              value:
                `throughput ${ratio(max.requestsPerSecond, unsealed.max.requestsPerSecond)} ` +
                `(${whole(max.requestsPerSecond)} vs ${whole(unsealed.max.requestsPerSecond)} req/s); ` +
                `p99 at ${whole(FIXED_RATE)}/s ${fixed(rate.p99Ms)} vs ${fixed(unsealed.rate.p99Ms)} ms`,
            });
          }
        }
      } finally {
        context.memory.record(
          target.name,
          `${mode} pushes flat out and at ${FIXED_RATE}/s`,
          server.peakRssMb(),
        );
        await server.stop();
      }
    }
  }
  return {
    id: 'gateway',
    title: '1. Gateway throughput and latency',
    setup: [
      `autocannon over loopback, ${CONNECTIONS} connections, ${maxSeconds} s flat out after a 2 s warm-up, then ${fixedSeconds} s at ${whole(FIXED_RATE)} pushes/s sent evenly, each at its own time whatever the answers before it (an open loop, from a thread of the bench process, at most ${CONNECTIONS} connections), its latency from the time it was due. Earlier runs used autocannon's overallRate for this, which sends each connection's share of a second back to back at the top of the second: not an even rate.`,
      'Every request is a distinct signed follow (safe mode: AES-encrypted with msg_signature), built before the load starts.',
      'The servers run one at a time as their own processes; the load generator shares the same two cores.',
      'The gateway without sealing is the same app, configuration and broker with the seal step replaced by the event itself, publishing to a topic of its own: the difference is what sealing (a data key stored per follow, the cipher per personal field) costs.',
      "CPU per push: the server's and the broker's user and system time from /proc over the flat-out run, divided by the pushes answered 200 in it (for the servers that store nothing, the broker's is what it spends idle); the server's also over the run at the even rate, where each push arrives on its own and costs more (on these machines even bare koa's request costs two to three times its flat-out figure).",
    ],
    figures,
    tables: [
      {
        headers: [
          'mode',
          'server',
          'req/s',
          'ratio to ceiling',
          'p50 ms',
          'p99 ms',
          'max ms',
          `req/s at ${FIXED_RATE}/s`,
          'p50 ms',
          'p99 ms',
          'max ms',
          'non-2xx or errors',
          'pushes sent twice',
          'server CPU µs per answered push',
          `server CPU µs per answered push at ${FIXED_RATE}/s`,
          'broker CPU µs per answered push',
        ],
        rows,
      },
    ],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
