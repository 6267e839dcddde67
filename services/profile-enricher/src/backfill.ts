#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EventPublisher, createKafka } from '@wxp/kafka';
import { connectMongo } from '@wxp/mongo';
import { DataKeyStore, pseudonymOf } from '@wxp/privacy';
import { brokerList, ConfigError, createLogger, loadConfig, mongoUrl, str } from '@wxp/service-runtime';
import { wechatApiFromEnv } from '@wxp/wechat-api';
import { SingleBar } from 'cli-progress';
import { profileFetched } from './profile-events';
import { publishProfile } from './enricher';

const usage = `usage: npm run backfill -- --app <appId>

Fetches the profile of every current follower of the account (user/get, then user/info/batchget
100 at a time) and writes them to wechat.profiles.v2, sealed with each follower's data key, where
the profile read model picks them up. Uses KAFKA_BROKERS, MONGO_URL (the shared access_token and
users' data keys), PRIVACY_KEY (the services' own), WECHAT_API_BASE and WECHAT_ACCOUNTS_FILE.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { app: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || !values.app) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const appId = values.app;
  const config = loadConfig({
    KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
    MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
    PRIVACY_KEY: str({ desc: 'The same secret the services use' }),
  });
  if (config.PRIVACY_KEY.length < 16) throw new ConfigError(['PRIVACY_KEY must be at least 16 characters']);
  const logger = createLogger('backfill', 'warn');
  const mongo = await connectMongo(config.MONGO_URL, 'profile-backfill');
  const keys = new DataKeyStore(mongo.db, config.PRIVACY_KEY);
  await keys.prepare();
  const publisher = await EventPublisher.connect(
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'profile-backfill', logger }),
  );
  const api = wechatApiFromEnv(mongo.db);
  const run = randomUUID();
  const bar = new SingleBar({
    format: 'backfill {app} |{bar}| {value}/{total} followers | {speed}/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 2000,
  });
  let done = 0;
  let erased = 0;
  const started = Date.now();
  try {
    let next: string | undefined;
    let first = true;
    for (;;) {
      const page = await api.getFollowers(appId, next);
      if (first) bar.start(page.total, 0, { app: appId, speed: 0 });
      first = false;
      const openIds = page.data?.openid ?? [];
      for (let i = 0; i < openIds.length; i += 100) {
        const infos = await api.batchGetUserInfo(appId, openIds.slice(i, i + 100));
        await Promise.all(
          infos.map(async (info) => {
            const pseudonym = pseudonymOf(config.PRIVACY_KEY, appId, info.openid);
            // A follower has a key (their follow made one); one who followed before keys existed gets
            // one. One whose data was erased since (they asked) gets no profile fetched anew.
            const key = (await keys.erasedSinceLastKey(pseudonym))
              ? null
              : await keys.keyForWriting(appId, pseudonym);
            if (!key) {
              erased += 1;
              return;
            }
            const profile = profileFetched(appId, pseudonym, info, `backfill:${run}:${pseudonym}`);
            await publishProfile(publisher, profile, key);
          }),
        );
        done += infos.length;
        bar.update(done, { speed: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
      }
      if (!page.next_openid || openIds.length === 0) break;
      next = page.next_openid;
    }
  } finally {
    bar.stop();
    await publisher.disconnect();
    await mongo.close();
  }
  process.stdout.write(
    `${done - erased} profiles written for ${appId}` +
      (erased > 0 ? `; ${erased} of the followers left out: erased since their follow` : '') +
      '\n',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`backfill: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
