import { Topics, topicCatalogue } from '@wxp/contracts';
import { KafkaCluster, freePort } from '@wxp/devstack';
import { createKafka, provisionTopics } from '@wxp/kafka';
import pino from 'pino';
import type { PhaseContext } from '../phase-context';
import { followFields, wirePush } from '../push-corpus';
import { PushSender, atRateWhile } from '../push-sender';
import { fixed, whole, type Figure, type PhaseResult } from '../results';
import { FaultRig, type FaultCensus } from './fault-rig';

const OFFERED_PER_SECOND = 1000;
/** Pushes awaiting their answer at most; WeChat's servers hold about as many to one account's URL. */
const MAX_IN_FLIGHT = 200;
const STOPPED_SECONDS = 30;
/** Load goes on this long after the fault is over (the node killed or back), then stops. */
const AFTER_FAULT_SECONDS = 20;

type FaultKind = 'leader' | 'stopped' | 'controller';

interface FaultRun {
  kind: FaultKind;
  what: string;
  node: number;
  offered: number;
  /** Starts the in-flight cap held back: the rate the servers took is below the offered one. */
  heldBack: number;
  acknowledged: number;
  loadSeconds: number;
  census: FaultCensus;
  answers: Map<number, number>;
  /** The longest stretch in which the gateway kept answering anything but 200 (gaps under 1 s joined). */
  longestRefusalMs: number;
  /** The longest a push took from its first try to its 200, retries included. */
  longestUntilAcknowledgedMs: number;
}

/**
 * Three Kafka nodes of the phase's own (replication 3, min.insync.replicas 2) under follows offered
 * at 1,000/s, retried every 500 ms until answered 200 as WeChat retries; three faults, each with a
 * gateway and subscriber projection of its own and a census: the leader of most of the events
 * topic's partitions SIGKILLed, a node stopped for 30 s and started again, the active controller
 * SIGKILLed. A killed node is started again and caught up before the next fault.
 */
export async function clusterFaults(context: PhaseContext): Promise<PhaseResult> {
  const { stack, log, scale } = context;
  const started = Date.now();
  const nodes = [];
  for (let i = 0; i < 3; i++) nodes.push({ port: await freePort(), controllerPort: await freePort() });
  const cluster = await KafkaCluster.start({
    dataDir: stack.dataDirFor('kafka-cluster'),
    nodes,
    report: (line) => log(`  ${line}`),
  });
  const runs: FaultRun[] = [];
  try {
    const logger = pino({ level: 'silent' });
    await provisionTopics(
      createKafka({ brokers: cluster.brokers, clientId: 'bench', logger }),
      topicCatalogue,
      logger,
    );
    await cluster.untilFullyReplicated(Topics.events);
    log(`cluster: ${cluster.brokers.join(',')} up in ${whole((Date.now() - started) / 1000)} s`);
    const clustered: PhaseContext = { ...context, stack: stack.withBrokers(cluster.brokers) };
    for (const kind of ['leader', 'stopped', 'controller'] as const) {
      runs.push(await faultRun(clustered, cluster, kind));
      await cluster.untilFullyReplicated(Topics.events);
    }
  } finally {
    await cluster.stop();
  }
  return {
    id: 'cluster',
    title: '5e. Fault: a three-node cluster losing a node under 1,000 pushes/s',
    setup: [
      'Three Kafka nodes on 127.0.0.1 (KRaft, each broker and controller), topics at replication 3 with min.insync.replicas 2, the producer waiting for all in-sync replicas; on the same two cores as everything else.',
      `Per fault: a gateway (GATEWAY_ACK_TIMEOUT_MS 4000) and a subscriber projection of its own; follows of distinct users offered at ${whole(OFFERED_PER_SECOND)}/s, at most ${MAX_IN_FLIGHT} awaiting an answer (a start beyond that is skipped and counted as held back); the fault ${scale.seconds(10, 5)} s in, the load on until ${scale.seconds(AFTER_FAULT_SECONDS, 10)} s after the fault is over. A push not answered 200 is sent again every 500 ms until it is; lost means answered 200 but absent from the read model or the topic.`,
      `leader: the node leading most partitions of ${Topics.events} SIGKILLed, started again after the load. stopped: that node stopped with SIGTERM for 30 s and started again. controller: the active controller (the metadata quorum’s leader) SIGKILLed, started again after the load.`,
    ],
    figures: runs.flatMap((run) => figuresOf(run)),
    tables: [
      {
        headers: [
          'fault',
          'node',
          'load s',
          'offered / held back',
          'acknowledged per second',
          'lost (of which not on the topic) / doubled',
          'stored twice',
          'answers 200 / 503 / other',
          'longest stretch of refusals',
          'longest until acknowledged',
        ],
        rows: runs.map((run) => {
          const other = [...run.answers]
            .filter(([s]) => s !== 200 && s !== 503)
            .reduce((n, [, c]) => n + c, 0);
          return [
            run.kind,
            String(run.node),
            whole(run.loadSeconds),
            `${whole(run.offered)} / ${whole(run.heldBack)}`,
            whole(run.acknowledged / run.loadSeconds),
            `${run.census.lost} (${run.census.absentFromTopic}) / ${run.census.doubledInReadModel}`,
            whole(run.census.storedTwice),
            `${whole(run.answers.get(200) ?? 0)} / ${whole(run.answers.get(503) ?? 0)} / ${whole(other)}`,
            `${fixed(run.longestRefusalMs / 1000)} s`,
            `${fixed(run.longestUntilAcknowledgedMs / 1000)} s`,
          ];
        }),
      },
    ],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}

function figuresOf(run: FaultRun): Figure[] {
  return [
    {
      name: `cluster, ${run.what}: acknowledged pushes lost / effects doubled`,
      value: `${run.census.lost} / ${run.census.doubledInReadModel} (of ${whole(run.acknowledged)} acknowledged)`,
      target: '0 / 0',
      met: run.census.lost === 0 && run.census.doubledInReadModel === 0,
    },
    {
      name: `cluster, ${run.what}: longest time the gateway answered 503`,
      value: `${fixed(run.longestRefusalMs / 1000)} s`,
    },
  ];
}

async function faultRun(context: PhaseContext, cluster: KafkaCluster, kind: FaultKind): Promise<FaultRun> {
  const { log, scale } = context;
  const account = context.accounts.outage;
  const rig = await FaultRig.start(context, account, `cluster-${kind}`);
  const sender = new PushSender(rig.gateway.url);
  const acknowledged: string[] = [];
  const answers = new Map<number, number>();
  const refusals: number[] = [];
  let longestUntilAcknowledgedMs = 0;
  const prefix = `oCluster${kind}`;
  let going = true;
  const loadStarted = Date.now();
  const load = atRateWhile(
    OFFERED_PER_SECOND,
    MAX_IN_FLIGHT,
    () => going,
    async (i) => {
      const openId = `${prefix}${i}`;
      const push = wirePush(account, followFields(account, openId, Math.floor(Date.now() / 1000)));
      const first = performance.now();
      for (;;) {
        const answer = await sender.send(push);
        answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1);
        if (answer.status === 200) break;
        refusals.push(performance.now());
        await new Promise((r) => setTimeout(r, 500));
      }
      longestUntilAcknowledgedMs = Math.max(longestUntilAcknowledgedMs, performance.now() - first);
      acknowledged.push(openId);
    },
  );
  let node: number;
  let what: string;
  try {
    await new Promise((r) => setTimeout(r, scale.seconds(10, 5) * 1000));
    if (kind === 'controller') {
      node = cluster.activeController() ?? 1;
      what = `active controller (node ${node}) SIGKILLed`;
      log(`cluster: ${acknowledged.length} acknowledged; SIGKILL to node ${node}, the active controller`);
      await cluster.killNode(node);
    } else {
      node = await cluster.busiestLeaderOf(Topics.events);
      if (kind === 'leader') {
        what = `leader of most partitions (node ${node}) SIGKILLed`;
        log(`cluster: ${acknowledged.length} acknowledged; SIGKILL to node ${node}, leading most partitions`);
        await cluster.killNode(node);
      } else {
        what = `node ${node} stopped for ${STOPPED_SECONDS} s`;
        log(`cluster: ${acknowledged.length} acknowledged; stopping node ${node} for ${STOPPED_SECONDS} s`);
        await cluster.stopNode(node);
        await new Promise((r) => setTimeout(r, STOPPED_SECONDS * 1000));
        await cluster.startNode(node);
        log(`cluster: node ${node} back`);
      }
    }
    await new Promise((r) => setTimeout(r, scale.seconds(AFTER_FAULT_SECONDS, 10) * 1000));
  } finally {
    going = false;
  }
  const { started: offered, heldBack } = await load;
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  sender.close();
  log(`cluster: ${kind}: load over, ${acknowledged.length} acknowledged; counting`);
  if (!cluster.isRunning(node)) await cluster.startNode(node);
  const census = await rig.census(acknowledged);
  await rig.stop(`${whole(OFFERED_PER_SECOND)} follows/s offered to a three-node cluster, ${kind} fault`);
  log(`cluster: ${kind}: ${JSON.stringify(census)}`);
  return {
    kind,
    what,
    node,
    offered,
    heldBack,
    acknowledged: acknowledged.length,
    loadSeconds,
    census,
    answers,
    longestRefusalMs: longestStretch(refusals, 1000),
    longestUntilAcknowledgedMs,
  };
}

/** The longest run of sorted-or-not instants in which no two neighbours are more than `gapMs` apart. */
export function longestStretch(instants: readonly number[], gapMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let longest = 0;
  let start = sorted[0] ?? 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]! - sorted[i - 1]! > gapMs) start = sorted[i]!;
    longest = Math.max(longest, sorted[i]! - start);
  }
  return longest;
}
