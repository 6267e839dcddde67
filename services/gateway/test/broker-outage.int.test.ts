import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalEventId, topicCatalogue, Topics } from '@wxp/contracts';
import { createKafka, provisionTopics } from '@wxp/kafka';
import pino from 'pino';
import { freePort } from '../../../packages/devstack/src/free-port';
import { startKafkaBroker, type RunningKafkaBroker } from '../../../packages/devstack/src/kafka-broker';
import { eventually } from '../../../test/support/infrastructure';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { closeSharedKeysDb, testPseudonymOf } from '../../../test/support/privacy';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';

// The broker of this test is its own, so that it can be stopped under traffic and started again.
const account = testAccount({ encryptMode: 'safe' });
const dataDir = mkdtempSync(join(tmpdir(), 'wxp-outage-'));
let broker: RunningKafkaBroker | undefined;
let gateway: RunningGateway | undefined;
let ports: { port: number; controllerPort: number };

async function startBroker(): Promise<RunningKafkaBroker> {
  return startKafkaBroker({ dataDir, ...ports, report: () => undefined });
}

afterAll(async () => {
  await gateway?.close();
  await broker?.stop();
  await closeSharedKeysDb();
});

describe('a broker outage under traffic', () => {
  it('never answers success for a push whose event is not stored', async () => {
    ports = { port: await freePort(), controllerPort: await freePort() };
    broker = await startBroker();
    const logger = pino({ level: 'silent' });
    await provisionTopics(
      createKafka({ brokers: broker.brokers, clientId: 'outage-test', logger }),
      topicCatalogue.filter((t) => t.name === Topics.events),
      logger,
    );
    gateway = await startGateway([account], { brokers: broker.brokers, ackTimeoutMs: 1500 });

    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    const total = 200;
    let next = 0;
    // Five WeChat connections, each retrying a push until it is acknowledged.
    const sender = async () => {
      for (let n = next++; n < total; n = next++) {
        const fields = eventFields(account, `oOutage${n}`, 'CLICK', { EventKey: `k${n}` });
        const push = signedPush(account, fields);
        for (;;) {
          const reply = await gateway!.post(account.appId, push);
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (reply.status === 200) {
            acknowledged.add(
              canonicalEventId({
                appId: account.appId,
                // Ids are computed over the pseudonym, as the gateway computes them.
                fromUserName: testPseudonymOf(account.appId, String(fields.FromUserName)),
                createTime: String(fields.CreateTime),
                msgType: 'event',
                event: 'CLICK',
                eventKey: `k${n}`,
              }),
            );
            break;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    };
    const traffic = Promise.all(Array.from({ length: 5 }, sender));

    await eventually(async () => expect(acknowledged.size).toBeGreaterThan(20), 20_000);
    await broker.stop();
    const stoppedAt = acknowledged.size;
    await new Promise((r) => setTimeout(r, 5000));
    // Only answers already on their way when the broker went down.
    expect(acknowledged.size - stoppedAt).toBeLessThanOrEqual(5);
    broker = await startBroker();
    await traffic;

    expect(acknowledged.size).toBe(total);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    for (const status of statuses.keys()) expect([200, 503]).toContain(status);

    const reader = await TopicReader.start(Topics.events, broker.brokers);
    try {
      // A group's first join on a broker that has just restarted can take a while on a loaded machine.
      await eventually(
        async () => {
          const stored = new Set(reader.of(account.appId).map((e) => e.event.id));
          const lost = [...acknowledged].filter((id) => !stored.has(id));
          if (lost.length > 0) {
            process.stdout.write(
              `outage: ${lost.length} acknowledged events not read yet, ${stored.size} read\n`,
            );
          }
          expect(lost).toEqual([]);
        },
        60_000,
        1000,
      );
      const stored = reader.of(account.appId).map((e) => e.event.id);
      process.stdout.write(
        `outage: ${total} pushes acknowledged, ${statuses.get(503) ?? 0} answered 503 and retried, ` +
          `${stored.length - new Set(stored).size} stored twice (collapsed by consumers), 0 lost\n`,
      );
    } finally {
      await reader.stop();
    }
  }, 180_000);
});
