// One process of the shared-token test: many concurrent API calls through the built client.
'use strict';
const { MongoClient } = require('mongodb');
const { WechatApiClient } = require('../dist');

async function main() {
  const mongo = new MongoClient(process.env.WORKER_MONGO_URL);
  await mongo.connect();
  const api = new WechatApiClient({
    baseUrl: process.env.WORKER_BASE_URL,
    secretOf: () => process.env.WORKER_SECRET,
    tokenCollection: mongo.db().collection('tokens'),
  });
  const calls = Number(process.env.WORKER_CALLS);
  const results = await Promise.all(
    Array.from({ length: calls }, () => api.getFollowers(process.env.WORKER_APP_ID)),
  );
  process.stdout.write(`${results.filter((r) => r.total >= 1).length} ok\n`);
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
