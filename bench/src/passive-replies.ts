import { randomUUID } from 'node:crypto';
import type { Account } from '@wxp/accounts';
import { ReplyRulesSet, Topics, sourceOfApp } from '@wxp/contracts';
import { EventPublisher, createKafka } from '@wxp/kafka';
import pino from 'pino';
import { runLoad, type LoadResult } from './load-generator';
import type { PhaseContext } from './phase-context';
import { wirePush, type WirePush } from './push-corpus';
import { gatewayEnvironment } from './push-pipeline';
import { fixed, ratio, whole, type Figure, type PhaseResult } from './results';
import { startService } from './services';

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
    env: gatewayEnvironment(context.stack.brokers, context.stack.mongoUrl('bench_passive'), accounts.file),
  });
  const results: Record<string, LoadResult> = {};
  let unanswered = 0;
  try {
    for (const [name, account] of [
      ['passive', accounts.passive],
      ['quiet', accounts.quiet],
    ] as const) {
      log(`passive replies: building ${name} clicks`);
      const warmUp = clicks(account, 1, name);
      const load = clicks(account, rounds, name, 1);
      const warmSeconds = Math.max(2, Math.ceil(seconds / 2));
      await runLoad({
        origin: gateway.url,
        pushes: warmUp,
        connections: CONNECTIONS,
        durationSeconds: warmSeconds,
        overallRate: Math.ceil(USERS / warmSeconds),
      });
      const before = await gatewayCounter(gateway.url, 'none');
      results[name] = await runLoad({
        origin: gateway.url,
        pushes: load,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        overallRate: RATE,
      });
      if (name === 'passive') unanswered = (await gatewayCounter(gateway.url, 'none')) - before;
      log(`passive replies: ${name} at ${RATE}/s p99 ${results[name].p99Ms} ms`);
    }
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
      `${USERS} users per account click once first (their data keys stored), then ${whole(RATE)} distinct clicks/s for ${seconds} s over ${CONNECTIONS} connections (autocannon, overallRate).`,
      'The reply is decided while the click is stored; the answer waits for the broker to acknowledge the click and its wechat.reply.sent record.',
    ],
    figures,
    tables: [
      {
        headers: ['account', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx or errors'],
        rows: (['passive', 'quiet'] as const).map((name) => {
          const r = results[name]!;
          return [
            name === 'passive' ? 'replies inside the answer' : 'answered "success"',
            whole(r.requestsPerSecond),
            fixed(r.p50Ms),
            fixed(r.p99Ms),
            fixed(r.maxMs),
            whole(r.non2xx + r.errors),
          ];
        }),
      },
    ],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
