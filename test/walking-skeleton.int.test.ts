import { parseAccounts } from '@wxp/accounts';
import { AccountDirectory } from '../services/gateway/src/account-directory';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { DataKeyStore, pseudonymOf } from '@wxp/privacy';
import { createMetricsRegistry, startHttpServer, type RunningServer } from '@wxp/service-runtime';
import pino from 'pino';
import { createGatewayApp } from '../services/gateway/src/app';
import { sealerFor } from '../services/gateway/src/sealing';
import { wechatSignature } from '@wxp/wechat-push';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import { startAdmin } from './support/running-admin';
import { startConsumers } from './support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { testPrivacyKey } from './support/privacy';

// Push → gateway (sealing with the user's key) → Kafka → subscriber projection → MongoDB → admin
// API, all real, over one store as one deployment has: an erasure there reaches every part.
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const appId = `wx${Date.now().toString(16)}`;
const token = 'skeletontoken';
const adminToken = 'admin-token-for-tests-0123456789';
const privacyKey = testPrivacyKey;
const accounts = parseAccounts(
  JSON.stringify([
    {
      appId,
      appSecret: 's',
      token,
      encodingAESKey: 'a'.repeat(43),
      encryptMode: 'plain',
      originalId: 'gh_skeleton',
    },
  ]),
);

let gateway: RunningServer;
let admin: RunningServer;
let publisher: EventPublisher;
let projection: RunningConsumer[] = [];
let mongo: MongoConnection;

beforeAll(async () => {
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'skeleton-test', logger });
  mongo = await connectMongo(mongoUrlFor(uniqueName('skeleton')), 'skeleton-test');
  projection = await startConsumers(
    'subscriber-projection',
    kafka,
    mongo,
    subscriberProjectionConsumers(privacyKey),
  );
  publisher = await EventPublisher.connect(kafka);
  const keys = new DataKeyStore(mongo.db, privacyKey);
  await keys.prepare();
  gateway = await startHttpServer(
    createGatewayApp({
      accounts: new AccountDirectory(accounts),
      publish: (events) => publisher.publishTogether(events),
      isBrokerConnected: () => publisher.isConnected,
      pseudonymOf: (app, openId) => pseudonymOf(privacyKey, app, openId),
      seal: sealerFor(keys),
      isStoreReachable: () => mongo.ping(),
      logger,
      metrics: createMetricsRegistry('gateway'),
      maxBodyBytes: 64 * 1024,
      maxClockSkewSeconds: 300,
      ackTimeoutMs: 4000,
    }),
    0,
  );
  admin = await startAdmin(mongo, { adminToken, privacyKey }, { accounts: [...accounts.values()] });
});

afterAll(async () => {
  await gateway?.close();
  await admin?.close();
  await Promise.all(projection.map((c) => c.stop()));
  await publisher?.disconnect();
  await mongo?.close();
});

function signedQuery(timestamp = Math.floor(Date.now() / 1000)): string {
  const nonce = Math.random().toString(36).slice(2);
  const signature = wechatSignature(token, String(timestamp), nonce);
  return `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=x`;
}

function eventPush(openId: string, event: string, extra = ''): string {
  const createTime = Math.floor(Date.now() / 1000);
  return `<xml><ToUserName><![CDATA[gh_skeleton]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>${extra}</xml>`;
}

async function push(body: string, query = signedQuery(), app = appId): Promise<Response> {
  return fetch(`http://127.0.0.1:${gateway.port}/wechat/${app}?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body,
  });
}

function subscriber(openId: string, bearer = adminToken): Promise<Response> {
  return fetch(`http://127.0.0.1:${admin.port}/api/apps/${appId}/subscribers/${openId}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
}

async function followerStats(): Promise<Record<string, unknown>> {
  const stats = await fetch(`http://127.0.0.1:${admin.port}/api/apps/${appId}/follower-stats`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  return (await stats.json()) as Record<string, unknown>;
}

/** Every document of every collection, as text: what a dump of the store would hold. */
async function everythingStored(): Promise<string> {
  const all: unknown[] = [];
  for (const { name } of await mongo.db.listCollections().toArray())
    all.push(await mongo.db.collection(name).find().toArray());
  return JSON.stringify(all);
}

describe('walking skeleton', () => {
  it('answers the echostr handshake only to a correct signature', async () => {
    const ok = await fetch(
      `http://127.0.0.1:${gateway.port}/wechat/${appId}?${signedQuery()}&echostr=hello123`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello123');
    const bad = await fetch(
      `http://127.0.0.1:${gateway.port}/wechat/${appId}?signature=${'0'.repeat(40)}&timestamp=1&nonce=n&echostr=hello123`,
    );
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain('hello123');
  });

  it('a follow through a QR code reaches the admin API, and is gone after the unfollow', async () => {
    const openId = uniqueName('oUser');
    const reply = await push(
      eventPush(openId, 'subscribe', '<EventKey><![CDATA[qrscene_2024]]></EventKey><Ticket>T1</Ticket>'),
    );
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe('success');

    // How fast is for `npm run bench` (end-to-end latency); here only that it arrives.
    const body = await eventually(async () => {
      const response = await subscriber(openId);
      expect(response.status).toBe(200);
      return response.json();
    }, 30_000);
    expect(body).toMatchObject({ appId, openId, subscribed: true, scene: '2024', sceneId: 2024 });

    expect((await push(eventPush(openId, 'unsubscribe'))).status).toBe(200);
    await eventually(async () => expect((await subscriber(openId)).status).toBe(404), 30_000);

    // WeChat's privacy rule: nothing in any collection names the user any more; numbers stay.
    expect(await everythingStored()).not.toContain(openId);
    expect(await followerStats()).toMatchObject({ appId, follows: 1, unfollows: 1, followers: 0 });
  });

  it('a follower who asks to be erased is no longer shown, nothing names them, and they are still counted', async () => {
    const openId = uniqueName('oErase');
    expect(await (await push(eventPush(openId, 'subscribe'))).text()).toBe('success');
    await eventually(async () => expect((await subscriber(openId)).status).toBe(200), 30_000);
    const counted = (await followerStats()).followers;

    const erased = await fetch(`http://127.0.0.1:${admin.port}/api/apps/${appId}/users/${openId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(erased.status).toBe(202);
    expect(await erased.text()).not.toContain(openId);

    await eventually(async () => expect((await subscriber(openId)).status).toBe(404), 30_000);
    expect(await everythingStored()).not.toContain(openId);
    expect((await followerStats()).followers).toBe(counted);
  });

  it('refuses bad pushes with a 4xx and stores nothing', async () => {
    const openId = uniqueName('oForged');
    const body = eventPush(openId, 'subscribe');
    expect((await push(body, signedQuery(), 'wxunknown')).status).toBe(404);
    expect(
      (await push(body, `signature=${'0'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=n`))
        .status,
    ).toBe(401);
    expect((await push(body, signedQuery(Math.floor(Date.now() / 1000) - 3600))).status).toBe(401);
    expect((await push('<xml><broken>')).status).toBe(400);
    expect((await push('x'.repeat(70 * 1024))).status).toBe(413);
    // A valid push after them, for the same user, is the only one the read model sees.
    const marker = uniqueName('oMarker');
    expect((await push(eventPush(marker, 'subscribe'))).status).toBe(200);
    await eventually(async () => expect((await subscriber(marker)).status).toBe(200), 30_000);
    expect((await subscriber(openId)).status).toBe(404);
  });

  it('guards the admin API with the bearer token', async () => {
    expect((await subscriber('anyone', 'wrong-token')).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${admin.port}/api/apps/${appId}/subscribers/x`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${admin.port}/healthz`)).status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${gateway.port}/metrics`);
    expect(await metrics.text()).toContain('wxp_gateway_pushes_total');
  });
});
