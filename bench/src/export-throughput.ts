import { statSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics } from '@wxp/contracts';
import { repoRoot } from '@wxp/devstack';
import { Kafka, logLevel } from 'kafkajs';
import { startNodeProcess } from './child-processes';
import { processCpuSeconds } from './cpu-time';
import type { PhaseContext } from './phase-context';
import { BENCH_PRIVACY_KEY } from './push-pipeline';
import { fixed, whole, type Figure, type Table } from './results';

const EXPORTED_TOPICS = [Topics.events, Topics.profiles];

/** The window of the log an export reads: its history's first and last write. */
export interface ExportWindow {
  appId: string;
  since: Date;
  until: Date;
}

/**
 * The baseline: the same window of the same topics read with a bare kafkajs consumer that only
 * counts what it is given (Kafka's offsets for the window's times, no decoding, no writing).
 */
async function rawRead(
  brokers: string[],
  window: ExportWindow,
): Promise<{ events: number; seconds: number }> {
  const kafka = new Kafka({ brokers, clientId: 'bench-raw-read', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ranges: { topic: string; partition: number; from: number; to: number }[] = [];
  try {
    for (const topic of EXPORTED_TOPICS) {
      const from = await admin.fetchTopicOffsetsByTimestamp(topic, window.since.getTime());
      const to = await admin.fetchTopicOffsetsByTimestamp(topic, window.until.getTime());
      for (const start of from) {
        const end = Number(to.find((t) => t.partition === start.partition)?.offset ?? start.offset);
        if (end > Number(start.offset))
          ranges.push({ topic, partition: start.partition, from: Number(start.offset), to: end });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const total = ranges.reduce((sum, r) => sum + r.to - r.from, 0);
  const consumer = kafka.consumer({ groupId: `bench-raw-read-${Date.now().toString(36)}` });
  await consumer.connect();
  await consumer.subscribe({ topics: EXPORTED_TOPICS, fromBeginning: true });
  const started = performance.now();
  let events = 0;
  const remaining = new Set(ranges.map((r) => `${r.topic}/${r.partition}`));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const range = ranges.find((r) => r.topic === batch.topic && r.partition === batch.partition);
      if (!range) return;
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        if (offset >= range.from && offset < range.to) events++;
      }
      if (Number(batch.lastOffset()) >= range.to - 1) {
        remaining.delete(`${range.topic}/${range.partition}`);
        consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        if (remaining.size === 0) finish();
      }
    },
  });
  for (const range of ranges)
    consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
  if (ranges.length === 0) finish();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  if (events !== total) throw new Error(`the raw read counted ${events} events of ${total}`);
  return { events, seconds };
}

interface ExportRun {
  label: string;
  events: number;
  seconds: number;
  /** From the window's lookup to the file's close, as the command reports it. */
  readingSeconds: number;
  bytes: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** One run of the export command as an analyst runs it, its own process, into a file. */
async function exportOnce(
  context: PhaseContext,
  window: ExportWindow,
  mongoUrl: string,
  format: 'ndjson' | 'parquet',
  decrypt: boolean,
  dir: string,
): Promise<ExportRun> {
  const out = join(dir, `export-${decrypt ? 'clear' : 'pseudonymous'}.${format}`);
  const started = performance.now();
  const run = startNodeProcess({
    script: join(repoRoot(), 'services', 'log-export', 'dist', 'export.js'),
    args: [
      '--app',
      window.appId,
      '--since',
      window.since.toISOString(),
      '--until',
      window.until.toISOString(),
      '--format',
      format,
      '--out',
      out,
      '--force',
      ...(decrypt ? ['--decrypt'] : []),
    ],
    env: {
      ...process.env,
      KAFKA_BROKERS: context.stack.brokers.join(','),
      MONGO_URL: mongoUrl,
      PRIVACY_KEY: BENCH_PRIVACY_KEY,
      LOG_LEVEL: 'error',
    },
    captureOutput: true,
  });
  // The process takes its CPU time with it when it ends: read it while it runs.
  let cpuSeconds = 0;
  const watch = setInterval(() => {
    cpuSeconds = Math.max(cpuSeconds, processCpuSeconds(run.child.pid));
    run.peakRssMb();
  }, 100);
  const code = await run.exited;
  clearInterval(watch);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`export to ${format} ended with ${code}: ${run.output().slice(-2000)}`);
  const closing = /exported (\d+) rows of \d+ events read .* in ([\d.]+) s, /.exec(run.output());
  const rows = closing?.[1];
  if (rows === undefined)
    throw new Error(`export to ${format} did not say how many rows it wrote: ${run.output().slice(-500)}`);
  const bytes = statSync(out).size;
  rmSync(out, { force: true });
  return {
    label: `${format}${decrypt ? ', --decrypt' : ''}`,
    events: Number(rows),
    readingSeconds: Number(closing?.[2]),
    seconds,
    bytes,
    cpuSeconds,
    peakRssMb: run.peakRssMb(),
  };
}

/**
 * `wxp export` of the replay history (events and profiles of its account) to NDJSON and Parquet,
 * pseudonymous and decrypted, against reading the same window raw with kafkajs in the same run.
 */
export async function exportThroughput(
  context: PhaseContext,
  window: ExportWindow,
  mongoUrl: string,
): Promise<{ figures: Figure[]; table: Table; setup: string; notes: string[] }> {
  const { log, stack } = context;
  log('export: reading the history raw with kafkajs');
  const raw = await rawRead(stack.brokers, window);
  const rawRate = raw.events / raw.seconds;
  log(`export: raw read ${whole(raw.events)} events in ${fixed(raw.seconds)} s (${whole(rawRate)}/s)`);
  const dir = mkdtempSync(join(tmpdir(), 'wxp-bench-export-'));
  const runs: ExportRun[] = [];
  try {
    for (const [format, decrypt] of [
      ['ndjson', false],
      ['parquet', false],
      ['parquet', true],
    ] as const) {
      const run = await exportOnce(context, window, mongoUrl, format, decrypt, dir);
      log(`export: ${run.label} ${whole(run.events)} rows in ${fixed(run.seconds)} s`);
      context.memory.record(`export (${run.label})`, `exporting ${whole(run.events)} events`, run.peakRssMb);
      runs.push(run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const figures: Figure[] = runs.map((run) => {
    const r = run.events / run.seconds / rawRate;
    return {
      name: `export ${run.label} / raw kafkajs read`,
      value: `${r.toFixed(2)} (${whole(run.events / run.seconds)} events/s vs ${whole(rawRate)}/s)`,
      ...(run.label.includes('decrypt') ? {} : { target: '≥ 0.5', met: r >= 0.5 }),
    };
  });
  for (const run of runs)
    figures.push({
      name: `export file size per event (${run.label})`,
      value: `${fixed(run.bytes / run.events)} B`,
    });
  // The window holds only the history's account: every event of it is a row.
  const notes = runs
    .filter((run) => run.events !== raw.events)
    .map(
      (run) =>
        `**Rows missing:** the export (${run.label}) wrote ${whole(run.events)} rows of the ${whole(raw.events)} events in the window.`,
    );
  return {
    notes,
    figures,
    table: {
      headers: [
        'export',
        'rows',
        'seconds (process start to end)',
        'of which reading and writing (its own figure)',
        'rows/s',
        'ratio to raw read',
        'bytes per row',
        'process CPU µs per row',
        'peak RSS MB',
      ],
      rows: [
        [
          'raw kafkajs read (baseline)',
          whole(raw.events),
          fixed(raw.seconds),
          '',
          whole(rawRate),
          '1.00',
          '',
          '',
          '',
        ],
        ...runs.map((run) => [
          run.label,
          whole(run.events),
          fixed(run.seconds),
          fixed(run.readingSeconds),
          whole(run.events / run.seconds),
          (run.events / run.seconds / rawRate).toFixed(2),
          fixed(run.bytes / run.events),
          whole((1e6 * run.cpuSeconds) / Math.max(1, run.events)),
          whole(run.peakRssMb),
        ]),
      ],
    },
    setup: `Export: \`services/log-export/dist/export.js\` (what \`wxp export\` runs), its own process, of the replay history's account over the window of its writing (${window.since.toISOString()} to ${window.until.toISOString()}, Kafka's offsets for those times) on ${EXPORTED_TOPICS.join(' and ')}, into a file on local disk: NDJSON and Parquet with pseudonyms only, and Parquet with --decrypt (the data keys read from the store). Its time runs from the process's start to its end (start-up, group join and the file's close included). Baseline: the same offsets read in the same run by a bare kafkajs consumer that counts the messages (no decoding). The export's rows must equal the events of the window.`,
  };
}
