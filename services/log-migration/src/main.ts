#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { LegacyTopics } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import { ConfigError, brokerList, loadConfig, loggableError, mongoUrl, str } from '@wxp/service-runtime';
import pino from 'pino';
import { MigrationRefusedError, migrateLog, type MigrationSummary, type PairSummary } from './log-migration';

const usage = `usage: npm run migrate-log [-- --into-nonempty]

Copies ${LegacyTopics.events} and ${LegacyTopics.profiles} (personal data in clear) into the v2 topics:
personal fields sealed with each user's data key, keyed by pseudonym, in each user's order. Users
whose last event is an unfollow are written as erased and get no key. Progress is recorded in the
store: running it again resumes, or copies only what v1 received since the last run.
Uses KAFKA_BROKERS, MONGO_URL (where the data keys are kept) and PRIVACY_KEY.

  --into-nonempty  write even though a v2 topic holds events this migration did not write`;

function line(summary: PairSummary): string {
  if (summary.status === 'missing') return `${summary.from}: does not exist, nothing to migrate`;
  return (
    `${summary.from} -> ${summary.to}: ${summary.read} read, ${summary.sealed} sealed, ` +
    `${summary.erased} written as erased, ${summary.skipped} skipped, ` +
    `${summary.earlier} migrated by earlier runs (${summary.seconds.toFixed(1)} s)`
  );
}

function report(summary: MigrationSummary): string {
  return [
    line(summary.events),
    line(summary.profiles),
    `${summary.erasedUsers} users unfollowed for good: written as erased, no data key made`,
    `${summary.keysDestroyed} data keys destroyed of users who unfollowed since an earlier run`,
    `${summary.unmappedCauses} profiles answer an event not in ${LegacyTopics.events} (their causedBy is replaced by a keyed hash or pseudonym)`,
  ].join('\n');
}

/** Every bad variable on a line of its own, the key's length among them; no value of a secret is shown. */
function configFromEnvironment() {
  const problems: string[] = [];
  const privacyKey = process.env.PRIVACY_KEY ?? '';
  if (process.env.PRIVACY_KEY !== undefined && privacyKey.length < 16)
    problems.push('PRIVACY_KEY must be at least 16 characters');
  try {
    const config = loadConfig({
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      PRIVACY_KEY: str({ desc: 'The secret of the pseudonyms and of the wrapping of data keys' }),
    });
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (error) {
    if (error instanceof ConfigError && problems.length > 0 && error.problems !== problems)
      throw new ConfigError([...error.problems, ...problems]);
    throw error;
  }
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(): Promise<number> {
  let values: { 'into-nonempty'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { 'into-nonempty': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    // An option it does not know is a usage error, as for every other command: exit code 2.
    throw new UsageError(`${(error as Error).message} (--help for usage)`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const config = configFromEnvironment();
  // The summary is the command's output on stdout; the client's warnings go with the progress, to stderr.
  const logger = pino(
    { name: 'log-migration', level: 'warn', serializers: { err: loggableError } },
    pino.destination(2),
  );
  const mongo = await connectMongo(config.MONGO_URL, 'log-migration');
  try {
    const summary = await migrateLog({
      kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'log-migration', logger }),
      db: mongo.db,
      privacyKey: config.PRIVACY_KEY,
      intoNonEmpty: values['into-nonempty'] === true,
      progress: process.stderr,
    });
    if (summary.events.status === 'missing' && summary.profiles.status === 'missing') {
      process.stdout.write(
        `${LegacyTopics.events} and ${LegacyTopics.profiles} do not exist: nothing to migrate\n`,
      );
      return 0;
    }
    process.stdout.write(`${report(summary)}\n`);
    return 0;
  } finally {
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known =
      error instanceof ConfigError || error instanceof MigrationRefusedError || error instanceof UsageError;
    process.stderr.write(`migrate-log: ${(error as Error).message}\n`);
    process.exit(known ? 2 : 1);
  },
);
