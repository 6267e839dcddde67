import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ReadModels, userKey } from '@wxp/contracts';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { WechatApiClient } from '@wxp/wechat-api';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pino from 'pino';
import { enricherBehaviour, profilesBehaviour } from '../src/enricher';
import { startConsumers } from '../../../test/support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: 'silent' });
const account = testAccount();
const privacyKey = 'enricher-test-privacy-key';
const database = uniqueName('enricher');
let mongo: MongoConnection;
let gateway: RunningGateway;
let emulator: RunningEmulator;
let publisher: EventPublisher;
const consumers: RunningConsumer[] = [];

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(database), 'enricher-test');
  gateway = await startGateway([account]);
  emulator = await startEmulator([account], { gatewayUrl: gateway.url });
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'enricher-test', logger });
  publisher = await EventPublisher.connect(kafka);
  const api = new WechatApiClient({
    baseUrl: emulator.baseUrl,
    secretOf: () => account.appSecret,
    tokenCollection: mongo.db.collection('wechat_access_tokens'),
  });
  consumers.push(
    ...(await startConsumers('profile-enricher', kafka, mongo, [
      enricherBehaviour(api, publisher, 3600),
      profilesBehaviour(privacyKey),
    ])),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await emulator?.close();
  await gateway?.close();
  await mongo?.close();
});

const profileOf = (openId: string) =>
  mongo.db
    .collection(ReadModels.profiles)
    .findOne({ _id: userKey(privacyKey, account.appId, openId) } as never);

describe('profile enricher', () => {
  it('fetches the profile of a new follower, and erases it when they leave', async () => {
    const tokens = await mongo.db.collection('wechat_access_tokens').countDocuments();
    const { ticket } = await new WechatApiClient({
      baseUrl: emulator.baseUrl,
      secretOf: () => account.appSecret,
      tokenCollection: mongo.db.collection('wechat_access_tokens'),
    }).createQrCode(account.appId, { kind: 'permanent', scene: 'store-12' });
    expect(tokens).toBeLessThanOrEqual(1);
    const user = uniqueName('carol');
    const follow = await emulator.control('simulate', { appId: account.appId, user, action: 'scan', ticket });
    const openId = (follow.body as { openId: string }).openId;
    await eventually(async () => {
      expect(await profileOf(openId)).toMatchObject({
        state: 'known',
        openId,
        qrSceneStr: 'store-12',
        subscribeScene: 'ADD_SCENE_QR_CODE',
      });
    }, 15_000);
    const { unionId } = (await profileOf(openId)) as unknown as { unionId: string };
    expect(unionId).toMatch(/^u/);

    await emulator.control('simulate', { appId: account.appId, user, action: 'unfollow' });
    await eventually(async () => expect(await profileOf(openId)).toMatchObject({ state: 'erased' }), 15_000);
    for (const { name } of await mongo.db.listCollections().toArray()) {
      const everything = JSON.stringify(await mongo.db.collection(name).find().toArray());
      expect(everything).not.toContain(openId);
      expect(everything).not.toContain(unionId);
    }
  });

  it("records WeChat's refusal as fetch_failed", async () => {
    await emulator.control('faults', { appId: account.appId, api: 'user/info', errcode: 48001, times: 1 });
    const follow = await emulator.control('simulate', {
      appId: account.appId,
      user: uniqueName('dan'),
      action: 'follow',
    });
    const openId = (follow.body as { openId: string }).openId;
    await eventually(
      async () => expect(await profileOf(openId)).toMatchObject({ state: 'failed', errcode: 48001 }),
      15_000,
    );
  });

  it('backfills every current follower with a progress line, 100 per batchget', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `backfilled-${i}`);
    await emulator.control('users', { appId: account.appId, users: names.map((name) => ({ name })) });
    const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-backfill-')), 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([account]));
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(__dirname, '..', 'dist', 'backfill.js'), '--app', account.appId],
        {
          env: {
            ...process.env,
            MONGO_URL: mongoUrlFor(database),
            WECHAT_API_BASE: emulator.baseUrl,
            WECHAT_ACCOUNTS_FILE: accountsFile,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      // 'close', not 'exit': the output may still be in the pipes when the process has exited.
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    });
    expect(output).toMatch(/backfill .*\d+\/\d+ followers/);
    expect(output).toMatch(/\d+ profiles written/);
    await eventually(async () => {
      const known = await mongo.db
        .collection(ReadModels.profiles)
        .countDocuments({ appId: account.appId, state: 'known' } as never);
      expect(known).toBeGreaterThanOrEqual(150);
    }, 20_000);
  });
});
