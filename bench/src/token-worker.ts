// One process of the token benchmark: TOKEN_CALLS concurrent API calls through the client every
// service uses, sharing the access_token through the store. Prints how many calls succeeded.
import { wechatApiFromEnv } from '@wxp/wechat-api';
import { MongoClient } from 'mongodb';

async function main(): Promise<void> {
  const mongo = new MongoClient(process.env.MONGO_URL ?? '');
  await mongo.connect();
  try {
    const api = wechatApiFromEnv(mongo.db());
    const appId = process.env.TOKEN_APP_ID ?? '';
    const calls = Number(process.env.TOKEN_CALLS);
    const results = await Promise.allSettled(Array.from({ length: calls }, () => api.getFollowers(appId)));
    const failed = results.filter((r) => r.status === 'rejected');
    process.stdout.write(`${results.length - failed.length} ok ${failed.length} failed\n`);
  } finally {
    await mongo.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
