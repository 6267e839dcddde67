import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ReadModels, Topics } from '@wxp/contracts';
import { startProjectionConsumer } from '@wxp/consumer-service';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import pino from 'pino';
import { toCanonicalEvent, partitionKeyOf } from '../../gateway/src/canonical-event';
import { subscriberBehaviour } from '../src/projection-service';
import { freePort } from '../../../packages/devstack/src/free-port';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

// The service is killed with SIGKILL at random moments while events flow and started again; its
// read models must end equal to those of a clean, uninterrupted run over the same events.
const logger = pino({ level: 'silent' });
const privacyKey = 'crash-test-privacy-key-0123';
const appId = `wxcrash${Date.now().toString(16)}`;
const main = join(__dirname, '..', 'dist', 'main.js');
const crashedDb = uniqueName('crashed');
const cleanDb = uniqueName('clean');
let service: ChildProcess | undefined;
let clean: RunningConsumer | undefined;
let mongo: { crashed: MongoConnection; clean: MongoConnection } | undefined;

function startService(port: number, groupId: string): ChildProcess {
  return spawn(process.execPath, [main], {
    env: {
      ...process.env,
      MONGO_URL: mongoUrlFor(crashedDb),
      PRIVACY_KEY: privacyKey,
      SUBSCRIBER_PROJECTION_GROUP: groupId,
      SUBSCRIBER_PROJECTION_PORT: String(port),
      LOG_LEVEL: 'error',
    },
    stdio: 'ignore',
  });
}

/** A realistic mix for one user: follows (some through codes), clicks, scans, unfollows, re-follows. */
function pushesFor(user: number, second: number): Record<string, string>[] {
  const base = { ToUserName: 'gh_crash', FromUserName: `oCrash${user}`, MsgType: 'event' };
  const at = (n: number) => String(1_700_000_000 + second * 10 + n);
  const pushes = [
    {
      ...base,
      CreateTime: at(0),
      Event: 'subscribe',
      ...(user % 3 === 0 ? { EventKey: `qrscene_${user % 7}` } : {}),
    },
  ];
  pushes.push({ ...base, CreateTime: at(1), Event: 'CLICK', EventKey: 'k' });
  if (user % 2 === 0)
    pushes.push({ ...base, CreateTime: at(2), Event: 'SCAN', EventKey: String((user % 5) + 1) });
  if (user % 4 === 0) pushes.push({ ...base, CreateTime: at(3), Event: 'unsubscribe' });
  if (user % 8 === 0) pushes.push({ ...base, CreateTime: at(4), Event: 'subscribe' });
  return pushes;
}

afterAll(async () => {
  service?.kill('SIGKILL');
  await clean?.stop();
  await mongo?.crashed.close();
  await mongo?.clean.close();
});

describe('crash safety', () => {
  it('SIGKILLed at random moments, the projection ends equal to a clean run', async () => {
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'crash-test', logger });
    mongo = {
      crashed: await connectMongo(mongoUrlFor(crashedDb), 'crash-test'),
      clean: await connectMongo(mongoUrlFor(cleanDb), 'crash-test'),
    };
    const port = await freePort();
    const groupId = uniqueName('crashing-projection');
    service = startService(port, groupId);

    const publisher = await EventPublisher.connect(kafka);
    const kills: number[] = [];
    const publishing = (async () => {
      for (let round = 0; round < 20; round++) {
        const events = Array.from({ length: 25 }, (_, i) => round * 25 + i).flatMap((user) =>
          pushesFor(user, round).map((fields) => toCanonicalEvent(appId, fields)),
        );
        await Promise.all(
          events.map((event) =>
            publisher.publish({ topic: Topics.events, key: partitionKeyOf(event), event }),
          ),
        );
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
      service.kill('SIGKILL');
      kills.push(Date.now());
      service = startService(port, groupId);
    }
    await publishing;
    await publisher.disconnect();

    clean = await startProjectionConsumer({
      kafka,
      mongo: mongo.clean,
      groupId: uniqueName('clean-projection'),
      behaviour: subscriberBehaviour(privacyKey),
      logger,
      metrics: createMetricsRegistry('clean'),
    });
    const snapshot = async (db: MongoConnection) => ({
      subscribers: await db.db.collection(ReadModels.subscribers).find({ appId }).sort({ _id: 1 }).toArray(),
      counts: await db.db.collection(ReadModels.followerCounts).find({ appId }).sort({ _id: 1 }).toArray(),
    });
    await eventually(
      async () => {
        const expected = await snapshot(mongo!.clean);
        expect(expected.subscribers).toHaveLength(500);
        expect(await snapshot(mongo!.crashed)).toEqual(expected);
      },
      90_000,
      500,
    );
    const { counts } = await snapshot(mongo.crashed);
    const follows = counts.reduce((sum, c) => sum + (c.follows as number), 0);
    const unfollows = counts.reduce((sum, c) => sum + (c.unfollows as number), 0);
    expect({ follows, unfollows, kills: kills.length }).toEqual({
      follows: 500 + 63,
      unfollows: 125,
      kills: 3,
    });
  }, 180_000);
});
