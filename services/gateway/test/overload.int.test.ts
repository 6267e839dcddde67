import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicCatalogue, Topics } from '@wxp/contracts';
import { EventPublisher, createKafka, provisionTopics } from '@wxp/kafka';
import { sealEvent } from '@wxp/privacy';
import { createMetricsRegistry, startHttpServer, type RunningServer } from '@wxp/service-runtime';
import pino from 'pino';
import { freePort } from '../../../packages/devstack/src/free-port';
import { startKafkaBroker, type RunningKafkaBroker } from '../../../packages/devstack/src/kafka-broker';
import { AccountDirectory } from '../src/account-directory';
import { createGatewayApp } from '../src/app';
import { partitionKeyOf, toCanonicalEvent } from '../src/canonical-event';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';
import { testPseudonymOf } from '../../../test/support/privacy';

// The broker of this test is its own: it is stopped so that events pile up in the gateway.
const account = testAccount();
const dataDir = mkdtempSync(join(tmpdir(), 'wxp-overload-'));
const limit = 10_000;
let broker: RunningKafkaBroker | undefined;
let publisher: EventPublisher | undefined;
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.close();
  await publisher?.disconnect(0);
  await broker?.stop();
});

interface LogRecord {
  msg: string;
  err?: { type?: string };
}

describe('a gateway whose broker does not answer', () => {
  it('keeps at most 10,000 events waiting and answers 503 at once beyond that', async () => {
    broker = await startKafkaBroker({
      dataDir,
      port: await freePort(),
      controllerPort: await freePort(),
      report: () => undefined,
    });
    const silent = pino({ level: 'silent' });
    // One data key for every user, held in memory: sealing costs no store round trip, so a push
    // that times out here does so because of the broker alone (the subject of this test).
    const key = { id: 'overload-test-key', key: randomBytes(32) };
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'overload-test', logger: silent });
    await provisionTopics(
      kafka,
      topicCatalogue.filter((t) => t.name === Topics.events),
      silent,
    );
    // The publisher as main.ts makes it: the limit under test is its default.
    publisher = await EventPublisher.connect(kafka);
    const logged: LogRecord[] = [];
    // Silent while the queue fills (20,000 log lines cost more than the pushes); read afterwards.
    const logger = pino({ level: 'silent' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    server = await startHttpServer(
      createGatewayApp({
        accounts: new AccountDirectory(new Map([[account.appId, account]])),
        publish: (events) => publisher!.publishTogether(events),
        isBrokerConnected: () => publisher!.isConnected,
        pseudonymOf: testPseudonymOf,
        seal: async (event) => sealEvent(event, key),
        isStoreReachable: async () => undefined,
        logger,
        metrics: createMetricsRegistry('gateway'),
        maxBodyBytes: 64 * 1024,
        maxClockSkewSeconds: 300,
        // Short, so that filling the queue is quick: each push below the limit waits this long.
        ackTimeoutMs: 100,
      }),
      0,
    );
    await broker.stop();

    let next = 0;
    const push = async () => {
      const n = next++;
      const { query, body } = signedPush(
        account,
        eventFields(account, `oOverload${n % 500}`, 'CLICK', { EventKey: `k${n}` }),
      );
      const response = await fetch(`http://127.0.0.1:${server!.port}/wechat/${account.appId}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      return { status: response.status, body: await response.text() };
    };

    // Events of earlier pushes waiting for the broker, published as the gateway publishes them; the
    // last few hundred below the limit come through the gateway itself. (Ten thousand pushes over
    // HTTP would take half a minute of the shared cores.)
    const earlier = limit - 300;
    for (let n = 0; n < earlier; n++) {
      const event = toCanonicalEvent(
        account.appId,
        {
          ToUserName: account.originalId!,
          FromUserName: `oEarlier${n % 500}`,
          CreateTime: '1700000000',
          MsgType: 'event',
          Event: 'CLICK',
          EventKey: `k${n}`,
        },
        testPseudonymOf,
      );
      publisher.publish({ topic: Topics.events, key: partitionKeyOf(event), event }).catch(() => undefined);
    }
    expect(publisher.queuedEvents).toBeGreaterThanOrEqual(earlier - 1);
    // Each push below the limit is answered 503 when its acknowledgement does not come in time, and
    // its event stays queued.
    const statuses = new Set<number>();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (publisher!.queuedEvents < limit) statuses.add((await push()).status);
      }),
    );
    expect([...statuses]).toEqual([503]);
    expect(publisher.queuedEvents).toBe(limit);

    // Beyond the limit: refused by the publisher, not timed out, and nothing more is kept.
    logger.level = 'error';
    for (let i = 0; i < 20; i++) {
      const answer = await push();
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'broker_unavailable' });
    }
    const refusals = logged.filter((r) => r.msg === 'event not stored');
    expect(refusals).toHaveLength(20);
    expect(refusals.map((r) => r.err?.type)).toEqual(Array(20).fill('PublisherOverloadedError'));
    expect(publisher.queuedEvents).toBe(limit);
  }, 120_000);
});
