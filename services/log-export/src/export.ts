#!/usr/bin/env node
import { createKafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { DataKeyStore, EventOpener } from '@wxp/privacy';
import { ConfigError, brokerList, loadConfig, loggableError, mongoUrl, str } from '@wxp/service-runtime';
import pino from 'pino';
import { parseExportArguments, usage, UsageError, type ExportOptions } from './export-options';
import { exportLog, type ExportSummary } from './log-export';
import { EventRows } from './event-rows';
import { NdjsonWriter } from './ndjson-writer';
import { OutputFile } from './output-file';
import { InlineSink, type RowSink } from './row-sink';
import { WorkerSink } from './worker-sink';

function configFromEnvironment(decrypt: boolean) {
  const kafka = { KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }) };
  if (!decrypt) return { ...loadConfig(kafka), MONGO_URL: undefined, PRIVACY_KEY: undefined };
  const config = loadConfig({
    ...kafka,
    MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
    PRIVACY_KEY: str({ desc: 'The secret of the pseudonyms and of the wrapping of data keys' }),
  });
  if (config.PRIVACY_KEY.length < 16) throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
  return config;
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

function report(options: ExportOptions, summary: ExportSummary): string {
  const rate = Math.round(summary.rows / Math.max(summary.seconds, 0.001));
  const where = options.out === '-' ? 'standard output' : options.out;
  const notes = [
    options.decrypt ? `${summary.erased} rows of erased users (pseudonym only)` : 'personal fields left out',
    ...(summary.unreadable > 0 ? [`${summary.unreadable} messages not CloudEvents, skipped`] : []),
  ];
  return (
    `exported ${summary.rows} rows of ${summary.read} events read to ${where} (${options.format}, ` +
    `${mebibytes(summary.bytes)}) in ${summary.seconds.toFixed(1)} s, ${rate} rows/s; ${notes.join('; ')}`
  );
}

async function main(): Promise<number> {
  const options = parseExportArguments(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const config = configFromEnvironment(options.decrypt);
  const output = options.out === '-' ? undefined : await OutputFile.open(options.out, options.force);
  const filter = { appId: options.appId, since: options.since, until: options.until, types: options.types };

  // Ctrl-C ends the read and the unfinished file is removed, never left looking complete. A second
  // signal (another Ctrl-C, or the one `wxp` passes on besides the terminal's) ends it at once.
  const aborter = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (!aborter.signal.aborted) return aborter.abort(new Interrupted(signal));
    output?.discardNow();
    process.exit(exitCodeOf(signal));
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);

  const logger = pino(
    { name: 'log-export', level: 'warn', serializers: { err: loggableError } },
    pino.destination(2),
  );
  let mongo: MongoConnection | undefined;
  try {
    let sink: RowSink;
    if (output) {
      sink = new WorkerSink({
        filter,
        format: options.format,
        path: output.partialPath,
        flags: output.flags,
        ...(options.decrypt
          ? { decrypt: { mongoUrl: config.MONGO_URL!, privacyKey: config.PRIVACY_KEY! } }
          : {}),
      });
    } else {
      let opener: EventOpener | undefined;
      if (options.decrypt) {
        mongo = await connectMongo(config.MONGO_URL!, 'log-export');
        // Decrypted when a column reads it: what no column takes (the push's other fields) stays sealed.
        opener = new EventOpener(new DataKeyStore(mongo.db, config.PRIVACY_KEY!), { openOnRead: true });
      }
      sink = new InlineSink(new EventRows(filter, opener), new NdjsonWriter(process.stdout, false));
    }
    const summary = await exportLog({
      kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'log-export', logger }),
      topics: options.topics,
      filter,
      sink,
      progress: process.stderr,
      signal: aborter.signal,
    });
    await output?.complete();
    // The summary is the output when writing to a file; with --out -, the rows are, so it goes to stderr.
    (options.out === '-' ? process.stderr : process.stdout).write(`${report(options, summary)}\n`);
    return 0;
  } catch (error) {
    await output?.discard();
    throw error;
  } finally {
    await mongo?.close();
  }
}

const exitCodeOf = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}; nothing was written`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usageProblem = error instanceof UsageError || error instanceof ConfigError;
    // Messages name options, files, topics and counts; nothing read from the log is put in one.
    process.stderr.write(`export: ${(error as Error).message}\n`);
    if (usageProblem) process.exit(2);
    process.exit(error instanceof Interrupted ? exitCodeOf(error.signal) : 1);
  },
);
