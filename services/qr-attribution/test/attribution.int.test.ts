import { createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import type { RunningServer } from '@wxp/service-runtime';
import pino from 'pino';
import { startAdmin } from '../../../test/support/running-admin';
import { qrAttributionConsumers } from '../src/attribution-service';
import { startConsumers } from '../../../test/support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { closeSharedKeysDb, sharedKeysDb } from '../../../test/support/privacy';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: 'silent' });
const account = testAccount();
const privacyKey = 'attribution-test-privacy-key';
const adminToken = 'attribution-test-admin-token';
let mongo: MongoConnection;
let attribution: RunningConsumer[] = [];
let gateway: RunningGateway;
let admin: RunningServer;

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('attribution')), 'attribution-test');
  attribution = await startConsumers(
    'qr-attribution',
    createKafka({ brokers: kafkaBrokers(), clientId: 'attribution-test', logger }),
    mongo,
    qrAttributionConsumers(),
    await sharedKeysDb(),
  );
  gateway = await startGateway([account]);
  admin = await startAdmin(mongo, { adminToken, privacyKey }, { accounts: [account] });
});

afterAll(async () => {
  await gateway?.close();
  await admin?.close();
  await Promise.all(attribution.map((c) => c.stop()));
  await mongo?.close();
  await closeSharedKeysDb();
});

describe('QR attribution over the real broker and store', () => {
  it('serves campaign figures through the admin API, with nothing about users who left', async () => {
    const send = async (openId: string, event: string, extra: Record<string, string> = {}) => {
      const reply = await gateway.post(
        account.appId,
        signedPush(account, eventFields(account, openId, event, extra)),
      );
      expect(reply.text).toBe('success');
    };
    const [alice, bob] = [uniqueName('oAlice'), uniqueName('oBob')];
    await send(alice, 'subscribe', { EventKey: 'qrscene_2024', Ticket: 'T' });
    await send(bob, 'subscribe', { EventKey: 'qrscene_2024', Ticket: 'T' });
    await send(bob, 'SCAN', { EventKey: '2024', Ticket: 'T' });
    await send(alice, 'unsubscribe');

    const stats = async () => {
      const response = await fetch(
        `http://127.0.0.1:${admin.port}/api/apps/${account.appId}/campaigns/2024/stats`,
        {
          headers: { authorization: `Bearer ${adminToken}` },
        },
      );
      return (await response.json()) as Record<string, unknown>;
    };
    await eventually(
      async () =>
        expect(await stats()).toMatchObject({
          scene: '2024',
          scans: 1,
          subscribes: 2,
          returning: 0,
          unsubscribes: 1,
        }),
      15_000,
    );
    expect(((await stats()).days as unknown[]).length).toBe(1);
    for (const { name } of await mongo.db.listCollections().toArray()) {
      expect(JSON.stringify(await mongo.db.collection(name).find().toArray())).not.toContain(alice);
    }
  });
});
