import { Topics } from '@wxp/contracts';
import { MongoClient } from 'mongodb';
import { eventually, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { sharedKeysDatabase, testPseudonymOf } from '../../../test/support/privacy';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { StoreGate } from '../../../test/support/store-gate';
import { TopicReader } from '../../../test/support/topic-reader';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';

// The gateway reaches the key store through a gate that the test closes: a push it cannot seal is
// not stored, so it must not be acknowledged either.
const account = testAccount({ encryptMode: 'safe' });
let gate: StoreGate;
let client: MongoClient;
let gateway: RunningGateway;
let reader: TopicReader;

beforeAll(async () => {
  const url = mongoUrlFor(sharedKeysDatabase);
  gate = await StoreGate.start(url);
  client = await new MongoClient(gate.urlFor(url), { serverSelectionTimeoutMS: 1500 }).connect();
  reader = await TopicReader.start(Topics.events);
  gateway = await startGateway([account], { keysDb: client.db(), ackTimeoutMs: 1500 });
});

afterAll(async () => {
  await gateway?.close();
  await reader?.stop();
  await client?.close(true);
  await gate?.close();
});

async function health(): Promise<{
  status: number;
  body: { status: string; checks: Record<string, string> };
}> {
  const response = await fetch(`${gateway.url}/healthz`);
  return { status: response.status, body: (await response.json()) as never };
}

describe('a gateway whose key store is away', () => {
  it('answers 503, never success, stores nothing, and /healthz names the key store', async () => {
    const before = uniqueName('oBefore');
    expect(
      await gateway.post(account.appId, signedPush(account, eventFields(account, before, 'subscribe'))),
    ).toEqual({ status: 200, text: 'success' });
    expect(await health()).toEqual({
      status: 200,
      body: { status: 'ok', checks: { broker: 'ok', keys: 'ok' } },
    });

    gate.cut();
    // A user the gateway has no key for yet: sealing needs the store.
    const openId = uniqueName('oUnsealable');
    const push = signedPush(account, eventFields(account, openId, 'subscribe'));
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await gateway.post(account.appId, push);
      expect(reply.status).toBe(503);
      expect(reply.text).not.toContain('success');
      expect(reply.text).not.toContain(openId);
    }
    const unhealthy = await health();
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body.status).toBe('unavailable');
    expect(unhealthy.body.checks.broker).toBe('ok');
    expect(unhealthy.body.checks.keys).not.toBe('ok');

    await reader.landed(account.appId, testPseudonymOf(account.appId, before));
    await reader.readToEnd();
    expect(reader.of(account.appId).map((e) => e.event.subject)).toEqual([
      testPseudonymOf(account.appId, before),
    ]);

    // WeChat's retry once the store is back is stored and acknowledged.
    gate.restore();
    await eventually(
      async () => expect((await gateway.post(account.appId, push)).status).toBe(200),
      20_000,
      250,
    );
    await reader.landed(account.appId, testPseudonymOf(account.appId, openId));
    expect((await health()).status).toBe(200);
  }, 60_000);
});
