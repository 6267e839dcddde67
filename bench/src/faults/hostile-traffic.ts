import type { PhaseContext } from '../phase-context';
import { followFields, wirePush } from '../push-corpus';
import { PushSender, withConcurrency } from '../push-sender';
import { fixed, whole, type PhaseResult } from '../results';
import { FaultRig } from './fault-rig';
import { HOSTILE_KINDS, hostileOpenId, hostilePush, type HostileKind } from './hostile-bodies';

/**
 * The gateway's JavaScript heap in use, from its /metrics: beside the RSS it tells objects kept
 * alive from memory the process holds but does not use. 0 when the gateway does not answer.
 */
async function heapUsedMb(gatewayUrl: string): Promise<number> {
  const text = await fetch(`${gatewayUrl}/metrics`)
    .then((answer) => answer.text())
    .catch(() => '');
  const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?)/m.exec(text);
  return match?.[1] ? Number(match[1]) / 2 ** 20 : 0;
}

/** One valid push in this many requests. */
const VALID_EVERY = 6;

/**
 * 100,000 bad requests (malformed, forged, oversized, replayed) with valid follows mixed in, to the
 * gateway in safe mode: every valid one must land, every bad one be refused with a 4xx and reach
 * nothing, the gateway must stay up, and its memory must not grow.
 */
export async function hostileTraffic(context: PhaseContext): Promise<PhaseResult> {
  const { scale, log } = context;
  const started = Date.now();
  const account = context.accounts.hostile;
  const bad = scale.count(100_000, 2000);
  const total = Math.ceil((bad * VALID_EVERY) / (VALID_EVERY - 1));
  const rig = await FaultRig.start(context, account, 'hostile');
  const sender = new PushSender(rig.gateway.url);
  const acknowledged: string[] = [];
  let validRefused = 0;
  const byKind = new Map<HostileKind, { sent: number; refused4xx: number; other: Map<number, number> }>(
    HOSTILE_KINDS.map((k) => [k, { sent: 0, refused4xx: 0, other: new Map() }]),
  );
  const rss: number[] = [];
  const heap: number[] = [];
  const sampler = setInterval(() => {
    rss.push(rig.gateway.process.rssMb());
    void heapUsedMb(rig.gateway.url).then((mb) => mb > 0 && heap.push(mb));
  }, 1000);
  let badSent = 0;
  try {
    log(`hostile: ${whole(bad)} bad requests and ${whole(total - bad)} valid follows`);
    await withConcurrency(32, total, async (i) => {
      if (i % VALID_EVERY === 0) {
        const openId = `oHostileOk${i}`;
        const answer = await sender.send(
          wirePush(account, followFields(account, openId, Math.floor(Date.now() / 1000))),
        );
        if (answer.status === 200) acknowledged.push(openId);
        else validRefused++;
        return;
      }
      const n = badSent++;
      const kind = HOSTILE_KINDS[n % HOSTILE_KINDS.length] as HostileKind;
      const answer = await sender.send(hostilePush(account, kind, n));
      const entry = byKind.get(kind)!;
      entry.sent++;
      if (answer.status >= 400 && answer.status < 500) entry.refused4xx++;
      else entry.other.set(answer.status, (entry.other.get(answer.status) ?? 0) + 1);
      if (n > 0 && n % 20_000 === 0) log(`hostile: ${whole(n)} bad requests sent`);
    });
  } finally {
    clearInterval(sampler);
    sender.close();
  }
  const alive = rig.gateway.process.child.exitCode === null && rig.gateway.process.child.signalCode === null;
  const healthy =
    alive &&
    (await fetch(`${rig.gateway.url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false));
  const refused = Array.from({ length: badSent }, (_, n) => hostileOpenId(n));
  const census = await rig.census(acknowledged, refused);
  await rig.stop(`${whole(bad)} hostile and ${whole(total - bad)} valid requests`);
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const early = mean(rss.slice(quarter, 2 * quarter));
  const late = mean(rss.slice(-quarter));
  const heapQuarter = Math.max(1, Math.floor(heap.length / 4));
  const heapEarly = mean(heap.slice(heapQuarter, 2 * heapQuarter));
  const heapLate = mean(heap.slice(-heapQuarter));
  const flat = late <= early * 1.2;
  const notRefused = [...byKind.values()].reduce((n, k) => n + (k.sent - k.refused4xx), 0);
  log(
    `hostile: ${JSON.stringify(census)}, rss ${fixed(early)} → ${fixed(late)} MB, ` +
      `heap ${fixed(heapEarly)} → ${fixed(heapLate)} MB, ${notRefused} bad not refused`,
  );
  return {
    id: 'hostile',
    title: '5d. Fault: hostile bodies mixed into valid traffic',
    setup: [
      `${whole(total)} requests from 32 connections to the gateway (own process, safe-mode account): one in ${VALID_EVERY} a valid signed and encrypted follow, the rest bad, kinds in turn. Bodies are built as they are sent.`,
      "Memory flat means the mean RSS of the last quarter of the run is within 20 % of the second quarter's (after warm-up); RSS is read every second.",
    ],
    figures: [
      {
        name: 'hostile traffic: valid pushes lost / invalid ones not refused with 4xx',
        value: `${census.lost + validRefused} / ${notRefused} (of ${whole(acknowledged.length + validRefused)} valid, ${whole(bad)} invalid)`,
        target: '0 / 0',
        met: census.lost + validRefused === 0 && notRefused === 0,
      },
      {
        name: 'hostile traffic: invalid events stored, valid ones doubled, gateway crashed',
        value: `${census.refusedButStored}, ${census.doubledInReadModel}, ${healthy ? 'no' : 'yes'}`,
        target: '0, 0, no',
        met: census.refusedButStored === 0 && census.doubledInReadModel === 0 && healthy,
      },
      {
        name: 'hostile traffic: gateway RSS, second quarter → last quarter',
        value: `${fixed(early)} → ${fixed(late)} MB (peak ${fixed(Math.max(0, ...rss))})`,
        target: 'flat',
        met: flat,
      },
      {
        name: "the gateway's JavaScript heap in use, second quarter → last quarter",
        value: `${fixed(heapEarly)} → ${fixed(heapLate)} MB (peak ${fixed(Math.max(0, ...heap))})`,
      },
    ],
    tables: [
      {
        headers: ['kind', 'sent', 'refused with 4xx', 'other answers'],
        rows: [...byKind].map(([kind, k]) => [
          kind,
          whole(k.sent),
          whole(k.refused4xx),
          [...k.other].map(([s, c]) => `${c}× ${s}`).join(', '),
        ]),
      },
    ],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
