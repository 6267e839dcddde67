import type { PhaseContext } from '../phase-context';
import { wirePush, followFields } from '../push-corpus';
import { PushSender } from '../push-sender';
import { whole, type PhaseResult } from '../results';
import { FaultRig } from './fault-rig';

const SENDERS = 20;
const PER_SENDER_PER_SECOND = 10;
const OUTAGE_SECONDS = 20;

/**
 * A steady push load (200/s from 20 connections) while the broker is stopped for 20 s and started
 * again. Each sender retries a push until it is answered success, as WeChat does (it stops after
 * three tries; retrying on is what lets a loss be counted exactly): every acknowledged follow must be
 * in the read model, and none counted twice.
 */
export async function brokerOutage(context: PhaseContext): Promise<PhaseResult> {
  const { stack, log, scale } = context;
  const started = Date.now();
  const account = context.accounts.outage;
  const rig = await FaultRig.start(context, account, 'outage');
  const sender = new PushSender(rig.gateway.url);
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  let stopSending = false;
  let next = 0;
  const load = Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (!stopSending) {
        const openId = `oOutage${next++}`;
        const push = wirePush(account, followFields(account, openId, Math.floor(Date.now() / 1000)));
        for (;;) {
          const answer = await sender.send(push);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 200) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        acknowledged.push(openId);
        await new Promise((r) => setTimeout(r, 1000 / PER_SENDER_PER_SECOND));
      }
    }),
  );
  const timings = { stopMs: 0, restartMs: 0 };
  try {
    await new Promise((r) => setTimeout(r, scale.seconds(10, 5) * 1000));
    log(`outage: ${acknowledged.length} acknowledged; stopping the broker for ${OUTAGE_SECONDS} s`);
    let t = Date.now();
    await stack.stopBroker();
    timings.stopMs = Date.now() - t;
    await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
    t = Date.now();
    await stack.startBroker();
    timings.restartMs = Date.now() - t;
    log(`outage: broker back after ${timings.restartMs} ms of start-up; load continues`);
    await new Promise((r) => setTimeout(r, scale.seconds(15, 10) * 1000));
  } finally {
    stopSending = true;
    await load;
    sender.close();
  }
  log(`outage: load stopped, ${acknowledged.length} acknowledged; counting`);
  const census = await rig.census(acknowledged);
  await rig.stop('200 pushes/s through a 20 s broker outage');
  log(`outage: ${JSON.stringify(census)}`);
  const s503 = statuses.get(503) ?? 0;
  const other = [...statuses].filter(([s]) => s !== 200 && s !== 503).reduce((n, [, c]) => n + c, 0);
  return {
    id: 'outage',
    title: '5a. Fault: the broker stopped for 20 s under load',
    setup: [
      `${SENDERS} senders at ${PER_SENDER_PER_SECOND} follows/s each (distinct users, safe mode) to the gateway (own process, GATEWAY_ACK_TIMEOUT_MS 4000), the subscriber projection (own process) reading.`,
      `After ${scale.seconds(10, 5)} s the broker is stopped (SIGTERM, took ${whole(timings.stopMs)} ms), kept down ${OUTAGE_SECONDS} s, started again on the same data (${whole(timings.restartMs)} ms to ready); the load runs on for ${scale.seconds(15, 10)} s.`,
      'A push not answered success is sent again every 500 ms until it is; lost means answered success but absent from the read model.',
    ],
    figures: [
      {
        name: 'broker outage: acknowledged pushes lost / counted twice',
        value: `${census.lost} / ${census.doubledInReadModel} (of ${whole(acknowledged.length)} acknowledged)`,
        target: '0 / 0',
        met: census.lost === 0 && census.doubledInReadModel === 0,
      },
      {
        name: 'answers during the run',
        value: `${whole(statuses.get(200) ?? 0)} success, ${whole(s503)} 503 (retried), ${whole(other)} other`,
      },
      {
        name: 'events stored twice on the topic (collapsed by the consumers)',
        value: whole(census.storedTwice),
      },
    ],
    tables: [],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
