import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Account } from '@wxp/accounts';
import { ReplyRulesSet, Topics, sourceOfApp } from '@wxp/contracts';
import { EventPublisher, createKafka } from '@wxp/kafka';
import pino from 'pino';
import { runLoad, type LoadResult } from './load-generator';
import { runSteadyLoad } from './steady-load';
import type { PhaseContext } from './phase-context';
import { wirePush, type WirePush } from './push-corpus';
import { gatewayEnvironment } from './push-pipeline';
import { fixed, ratio, whole, type Figure, type PhaseResult } from './results';
import { startService } from './services';
import { cpuDuring } from './cpu-time';

const RATE = 1000;
const CONNECTIONS = 50;
const USERS = 2000;
const REPLY = 'Thanks for clicking: here is the spring offer.';

/** Menu clicks by `USERS` followers, each user's `rounds` clicks a second apart, so every push is distinct. */
function clicks(account: Account, rounds: number, label: string, firstRound = 0): WirePush[] {
  const now = Math.floor(Date.now() / 1000);
  const pushes: WirePush[] = [];
  for (let round = firstRound; round < firstRound + rounds; round++)
    for (let user = 0; user < USERS; user++)
      pushes.push(
        wirePush(
          account,
          {
            ToUserName: account.originalId ?? 'gh_unknown',
            FromUserName: `o${label}${user}`,
            CreateTime: now - 3600 + round,
            MsgType: 'event',
            Event: 'CLICK',
            EventKey: 'SPRING',
          },
          now,
        ),
      );
  return pushes;
}

function interleaved<T>(a: T[], b: T[]): T[] {
  const mixed: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) mixed.push(a[i]!);
    if (i < b.length) mixed.push(b[i]!);
  }
  return mixed;
}

async function gatewayCounter(url: string, outcome: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`wxp_gateway_passive_replies_total{outcome="${outcome}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * Menu clicks answered with a reply inside the HTTP answer (safe mode: the reply encrypted and
 * signed), at 1,000 pushes/s, against the same clicks to an account answered `success`, through
 * one gateway. Both accounts' users click once first, so the load measures replies, not the data
 * keys a user's first event stores.
 */
export async function passiveReplies(context: PhaseContext): Promise<PhaseResult> {
  const { scale, log, accounts } = context;
  const started = Date.now();
  const seconds = scale.seconds(10);
  const rounds = Math.ceil((RATE * seconds + 2000) / USERS);

  const kafka = createKafka({
    brokers: context.stack.brokers,
    clientId: 'bench-passive',
    logger: pino({ level: 'warn' }),
  });
  const admin = await EventPublisher.connect(kafka);
  try {
    await admin.publish({
      topic: Topics.admin,
      key: accounts.passive.appId,
      event: {
        specversion: '1.0',
        id: randomUUID(),
        source: sourceOfApp(accounts.passive.appId),
        type: ReplyRulesSet.type,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        dataschema: ReplyRulesSet.dataschema,
        data: {
          appId: accounts.passive.appId,
          menu: { SPRING: { msgtype: 'text', text: { content: REPLY } } },
          welcome: {},
        },
      },
    });
  } finally {
    await admin.disconnect();
  }

  // Started after the rules were written: its health waits until it has read them.
  const gateway = await startService('gateway', {
    env: {
      ...gatewayEnvironment(context.stack.brokers, context.stack.mongoUrl('bench_passive'), accounts.file),
      // Long enough that no key is read again during the phase: it measures replies, phase 1 measures key reads.
      PRIVACY_KEY_CACHE_SECONDS: '300',
    },
  });
  const results: Record<string, LoadResult> = {};
  const cpu: Record<string, { gatewayUsPerPush: number; machineBusyShare: number }> = {};
  let unanswered = 0;
  let bursts: LoadResult | undefined;
  try {
    // Both accounts' users click once (their data keys stored), then both click at the full rate
    // for a while unmeasured: whichever account is measured first must not pay for a cold gateway,
    // broker or store (it did: the first measured took twice the second's p99, whichever it was).
    log('passive replies: warming up with both accounts');
    const warmSeconds = Math.max(2, Math.ceil(seconds / 2));
    const firstClicks = interleaved(
      clicks(accounts.passive, 1, 'passive'),
      clicks(accounts.quiet, 1, 'quiet'),
    );
    await runLoad({
      origin: gateway.url,
      pushes: firstClicks,
      connections: CONNECTIONS,
      durationSeconds: 120,
      amount: firstClicks.length,
    });
    const warmRounds = Math.ceil((RATE * warmSeconds) / (2 * USERS)) + 1;
    await runSteadyLoad({
      origin: gateway.url,
      pushes: interleaved(
        clicks(accounts.passive, warmRounds, 'passive', 1),
        clicks(accounts.quiet, warmRounds, 'quiet', 1),
      ),
      connections: CONNECTIONS,
      seconds: warmSeconds,
      perSecond: RATE,
    });
    for (const [name, account] of [
      ['passive', accounts.passive],
      ['quiet', accounts.quiet],
    ] as const) {
      log(`passive replies: building ${name} clicks`);
      const load = clicks(account, rounds, name, 1 + warmRounds);
      const before = await gatewayCounter(gateway.url, 'none');
      const measured = await cpuDuring(gateway.process.child.pid, () =>
        runSteadyLoad({
          origin: gateway.url,
          pushes: load,
          connections: CONNECTIONS,
          seconds,
          perSecond: RATE,
        }),
      );
      results[name] = measured.result;
      cpu[name] = {
        gatewayUsPerPush: (1e6 * measured.processSeconds) / Math.max(1, measured.result.answered),
        machineBusyShare: measured.machineBusyShare,
      };
      if (name === 'passive') unanswered = (await gatewayCounter(gateway.url, 'none')) - before;
      log(`passive replies: ${name} at ${RATE}/s p99 ${fixed(results[name].p99Ms)} ms`);
    }
    // The replying account once more, with clicks of later rounds, as autocannon sends a rate:
    // the earlier runs' method, for comparison.
    log('passive replies: the replying account again, as autocannon sends a rate');
    bursts = await runLoad({
      origin: gateway.url,
      pushes: clicks(accounts.passive, rounds, 'passive', 1 + warmRounds + rounds),
      connections: CONNECTIONS,
      durationSeconds: seconds,
      overallRate: RATE,
    });
  } finally {
    context.memory.record('gateway', `menu clicks at ${RATE}/s, passive replies`, gateway.peakRssMb());
    await gateway.stop();
  }
  const passive = results.passive!;
  const quiet = results.quiet!;
  const figures: Figure[] = [
    {
      name: `push → passive reply (safe mode) p99 at ${whole(RATE)}/s`,
      value: `${fixed(passive.p99Ms)} ms (p50 ${fixed(passive.p50Ms)}, max ${fixed(passive.maxMs)}); answered "success": ${fixed(quiet.p99Ms)} ms, ratio ${ratio(passive.p99Ms, quiet.p99Ms)}`,
      target: '≤ 50 ms',
      met: passive.p99Ms <= 50 && passive.non2xx + passive.errors === 0,
    },
    {
      name: "clicks to the passive account answered without the rule's reply",
      value: `${whole(unanswered)} of ${whole(passive.answered)}`,
      target: '0',
      met: passive.answered > 0 && unanswered === 0,
    },
  ];
  return {
    id: 'passive',
    title: '8. Passive replies',
    setup: [
      `One gateway, two safe-mode accounts: one replies inside the answer (a menu click's rule, a text reply, encrypted and signed), one is answered "success".`,
      `${USERS} users per account click once first (their data keys stored, and cached by the gateway for the whole phase: PRIVACY_KEY_CACHE_SECONDS=300), both accounts' clicks then come at ${whole(RATE)}/s unmeasured for a while (so neither account is measured on a cold process), then each account's ${whole(RATE)} distinct clicks/s for ${seconds} s over at most ${CONNECTIONS} connections.`,
      `The clicks come at an even rate, each sent at its own time whatever the answers before it (an open loop, as WeChat pushes), from a thread of the bench process; a click's latency runs from the time it was due, so a wait for a busy connection counts. The earlier runs used autocannon's overallRate, which sends each connection's share of a second back to back at the top of the second (here 50 clicks at a time until the second's ${whole(RATE)} are answered) and adds a latency sample for every millisecond of each answer: its figure for the replying account is the last row, for comparison.`,
      'The reply is decided while the click is stored; the answer waits for the broker to acknowledge the click and its wechat.reply.sent record, which leave in one produce request.',
    ],
    figures,
    tables: [
      {
        headers: [
          'account',
          'req/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'non-2xx or errors',
          'gateway CPU µs per push',
          'machine CPU busy',
        ],
        rows: [
          ...(['passive', 'quiet'] as const).map((name) => {
            const r = results[name]!;
            return [
              name === 'passive' ? 'replies inside the answer' : 'answered "success"',
              whole(r.requestsPerSecond),
              fixed(r.p50Ms),
              fixed(r.p99Ms),
              fixed(r.maxMs),
              whole(r.non2xx + r.errors),
              whole(cpu[name]!.gatewayUsPerPush),
              `${whole(100 * cpu[name]!.machineBusyShare)} %`,
            ];
          }),
          ...(bursts
            ? [
                [
                  'replies inside the answer, sent as autocannon sends a rate',
                  whole(bursts.requestsPerSecond),
                  fixed(bursts.p50Ms),
                  fixed(bursts.p99Ms),
                  fixed(bursts.maxMs),
                  whole(bursts.non2xx + bursts.errors),
                  '',
                  '',
                ],
              ]
            : []),
        ],
      },
    ],
    notes: [
      `The gateway answers on one thread: at ${whole(cpu.passive!.gatewayUsPerPush)} µs of CPU per push it can answer at most ${whole(1e6 / cpu.passive!.gatewayUsPerPush)} pushes a second on a core of its own (${whole(1e6 / cpu.quiet!.gatewayUsPerPush)} answering "success"), while the machine's ${availableParallelism()} cores were ${whole(100 * cpu.passive!.machineBusyShare)} % busy with the gateway, the broker, the store and the load generator.`,
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
