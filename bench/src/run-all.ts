import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@wxp/devstack';
import { writeBenchAccounts } from './bench-accounts';
import { BenchStack } from './bench-stack';
import { killAllChildren } from './child-processes';
import { endToEndLatency } from './end-to-end-latency';
import { brokerOutage } from './faults/broker-outage';
import { clusterFaults } from './faults/cluster-faults';
import { consumerKills } from './faults/consumer-kills';
import { duplicateDelivery } from './faults/duplicate-delivery';
import { hostileTraffic } from './faults/hostile-traffic';
import { gatewayProfile } from './gateway-profile';
import { gatewayThroughput } from './gateway-throughput';
import { passiveReplies } from './passive-replies';
import { machineInfo } from './machine';
import { memoryPhase } from './memory-report';
import { MemoryRecord, type PhaseContext } from './phase-context';
import { writeFormatted } from './formatted';
import { renderReport } from './report';
import type { PhaseResult, RunResults } from './results';
import { replayThroughput } from './replay-throughput';
import { benchScale } from './scale';
import { BenchUsageError, benchArguments, benchUsage, type BenchArguments } from './arguments';
import { tokenSharing } from './token-sharing';

interface Phase {
  id: string;
  title: string;
  /** Hard limit at scale 1; a phase past it is recorded as failed and its processes killed. */
  limitSeconds: number;
  run(context: PhaseContext): Promise<PhaseResult>;
}

const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function withinLimit<T>(work: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function failedPhase(phase: Phase, error: unknown, seconds: number): PhaseResult {
  return {
    id: phase.id,
    title: phase.title,
    setup: [],
    figures: [],
    tables: [],
    notes: [],
    seconds,
    error: (error as Error).message.split('\n')[0] ?? String(error),
  };
}

/** BENCHMARKS.md again from bench/results.json, with the current analysis: no measuring. */
async function renderOnly(): Promise<void> {
  const root = repoRoot();
  const run = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as RunResults;
  await writeFormatted(join(root, 'BENCHMARKS.md'), renderReport(run, analysis(root)));
  log('rewrote BENCHMARKS.md from bench/results.json');
}

/** The hand-written reading of the figures, kept beside the scripts and appended to the report. */
function analysis(root: string): string {
  const file = join(root, 'bench', 'analysis.md');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

// The consumer kills run first, on a topic holding only the history they write while they work;
// the replay follows on top of it. Later phases position their consumers at the end of the topic,
// or compare with a clean consumer reading the same.
const phases: Phase[] = [
  {
    id: 'kills',
    title: '5b. Fault: consumers SIGKILLed during a replay',
    limitSeconds: 480,
    run: consumerKills,
  },
  {
    id: 'replay',
    title: '3. Replay',
    limitSeconds: 1800,
    run: async (c) => (await replayThroughput(c)).result,
  },
  { id: 'gateway', title: '1. Gateway throughput and latency', limitSeconds: 420, run: gatewayThroughput },
  { id: 'e2e', title: '2. End to end', limitSeconds: 420, run: endToEndLatency },
  { id: 'token', title: '4. Shared access_token', limitSeconds: 120, run: tokenSharing },
  { id: 'outage', title: '5a. Fault: broker stopped for 20 s', limitSeconds: 240, run: brokerOutage },
  {
    id: 'duplicates',
    title: '5c. Fault: every push delivered three times',
    limitSeconds: 180,
    run: duplicateDelivery,
  },
  {
    id: 'hostile',
    title: '5d. Fault: hostile bodies mixed into valid traffic',
    limitSeconds: 900,
    run: hostileTraffic,
  },
  {
    id: 'cluster',
    title: '5e. Fault: a three-node cluster losing a node under load',
    limitSeconds: 600,
    run: clusterFaults,
  },
  { id: 'passive', title: '8. Passive replies', limitSeconds: 180, run: passiveReplies },
  { id: 'profile', title: '7. Profile of the gateway', limitSeconds: 120, run: gatewayProfile },
];

async function main(): Promise<void> {
  const phaseIds = phases.map((phase) => phase.id);
  let options: BenchArguments;
  try {
    options = benchArguments(process.argv.slice(2), process.env, phaseIds);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${benchUsage(phaseIds)}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(`${benchUsage(phaseIds)}\n`);
    return;
  }
  if (options.reportOnly) return renderOnly();
  const scale = benchScale(options.scaleFactor);
  const only = options.only;
  const started = Date.now();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  log(`benchmarks at scale ${scale.factor}${only ? ` (only ${only.join(', ')})` : ''}`);

  const stack = await BenchStack.start(log);
  log(`broker ${stack.brokers.join(',')}, store ${stack.mongoUrl('bench')}`);
  const memory = new MemoryRecord();
  const context: PhaseContext = {
    stack,
    accounts: writeBenchAccounts(),
    scale,
    memory,
    log,
    ...(options.replayEvents ? { replayEvents: options.replayEvents } : {}),
  };
  const results: PhaseResult[] = [];
  try {
    for (const phase of phases) {
      if (only && !only.includes(phase.id)) continue;
      const phaseStarted = Date.now();
      log(`— ${phase.title}`);
      try {
        if (results.length > 0) await stack.freshStore();
        const limit = scale.factor === 1 ? phase.limitSeconds : Math.max(150, phase.limitSeconds * 0.5);
        results.push(await withinLimit(phase.run(context), limit, phase.title));
        if (!(await stack.storeAnswers())) {
          results[results.length - 1]?.notes.push(
            '**The store stopped answering** reads and writes by the end of this phase (ping still answered); the next phase gets a new one.',
          );
        }
      } catch (error) {
        log(`${phase.title} failed: ${(error as Error).stack ?? String(error)}`);
        const failed = failedPhase(phase, error, (Date.now() - phaseStarted) / 1000);
        if (!(await stack.storeAnswers())) {
          failed.notes.push(
            '**The store had stopped answering** reads and writes (ping still answered) when the phase gave up.',
          );
        }
        results.push(failed);
        killAllChildren();
        await stack.startBroker().catch(() => undefined);
      }
      log(`  done in ${Math.round((Date.now() - phaseStarted) / 1000)} s`);
    }
    results.push(memoryPhase(memory));
  } finally {
    killAllChildren();
    await stack.stop();
  }

  const run: RunResults = {
    command:
      process.env.npm_lifecycle_event === 'bench'
        ? 'npm run bench'
        : `node bench/dist/run-all.js ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt,
    seconds: (Date.now() - started) / 1000,
    scale: scale.factor,
    machine: machineInfo(stack.storeEngine),
    phases: results,
  };
  const root = repoRoot();
  // Only a complete run at full scale is published; a partial or scaled one is a preview.
  const published = scale.factor === 1 && !only;
  const outDir = published ? root : join(root, '.data', 'bench');
  mkdirSync(outDir, { recursive: true });
  await writeFormatted(join(published ? join(root, 'bench') : outDir, 'results.json'), JSON.stringify(run));
  await writeFormatted(join(outDir, 'BENCHMARKS.md'), renderReport(run, analysis(root)));
  log(`wrote ${join(outDir, 'BENCHMARKS.md')} in ${Math.round(run.seconds)} s total`);
}

// A run that hangs in spite of the phase limits is ended: no benchmark may run unbounded. The
// phases' own limits add up to 91 minutes (a whole run takes about 55).
const overall = setTimeout(
  () => {
    log('benchmarks exceeded 95 minutes; stopping');
    killAllChildren();
    process.exit(1);
  },
  95 * 60 * 1000,
);
overall.unref();

// Ctrl-C or a kill of the run ends what it started too (the broker and the store end with it on
// their own, under the devstack's guard).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    log(`benchmarks failed: ${(error as Error).stack ?? String(error)}`);
    killAllChildren();
    process.exit(1);
  },
);
