import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { ReadModels } from '@wxp/contracts';
import type { ConsumerBehaviour } from '@wxp/consumer-service';
import { createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { qrAttributionConsumers } from '../services/qr-attribution/src/attribution-service';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import { freePort } from '../packages/devstack/src/free-port';
import { eventually, exited, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { canonicalEvent, SealingPublisher, testPrivacyKey } from './support/privacy';
import { startConsumers } from './support/running-consumers';
import { pushMixOf } from './support/push-mix';
import { StoreGate } from './support/store-gate';

// Each projection service runs as its own process and is killed with SIGKILL while it applies a
// batch, then started again into the same group. A kill comes only once a gate between the service
// and the store holds one of its writes (a random number of the batch's writes having gone
// through), so each kill interrupts a batch between its writes and its offset commit. The read
// models must end equal to those of a clean, uninterrupted run: nothing lost, nothing counted twice.
const logger = pino({ level: 'silent' });
// The clean run's consumers open events with the test key: the crashed services use it too.
const privacyKey = testPrivacyKey;
const appId = `wxcrash${Date.now().toString(16)}`;
// Work published only to make a service write while the test waits; the models are compared for appId.
const busyAppId = `${appId}busy`;
const crashedDb = uniqueName('crashed');
const cleanDb = uniqueName('clean');

interface ServiceUnderTest {
  name: string;
  prefix: string;
  behaviours: ConsumerBehaviour[];
  collections: string[];
  process?: ChildProcess;
  port?: number;
  group?: string;
  gate?: StoreGate;
  /** Per kill: writes held unanswered when the process was killed. */
  interrupted: number[];
}

const services: ServiceUnderTest[] = [
  {
    name: 'subscriber-projection',
    prefix: 'SUBSCRIBER_PROJECTION',
    behaviours: subscriberProjectionConsumers(privacyKey),
    collections: [ReadModels.subscribers, ReadModels.followerCounts],
    interrupted: [],
  },
  {
    name: 'qr-attribution',
    prefix: 'QR_ATTRIBUTION',
    behaviours: qrAttributionConsumers(),
    collections: [
      ReadModels.attributionUsers,
      ReadModels.campaignCounts,
      ReadModels.attributionJourneys,
      ReadModels.campaignFunnels,
    ],
    interrupted: [],
  },
];
const clean: RunningConsumer[] = [];
let mongo: { crashed: MongoConnection; clean: MongoConnection } | undefined;

function start(service: ServiceUnderTest): void {
  service.process = spawn(
    process.execPath,
    [join(__dirname, '..', 'services', service.name, 'dist', 'main.js')],
    {
      env: {
        ...process.env,
        MONGO_URL: service.gate!.urlFor(mongoUrlFor(crashedDb)),
        PRIVACY_KEY: privacyKey,
        [`${service.prefix}_GROUP`]: service.group,
        [`${service.prefix}_PORT`]: String(service.port),
        LOG_LEVEL: 'error',
      },
      stdio: 'ignore',
    },
  );
}

/** The shared mix of pushes, a round's users at their own times. */
function pushesFor(user: number, round: number): Record<string, string>[] {
  return pushMixOf(user, { ToUserName: 'gh_crash', FromUserName: `oCrash${user}` }, (n) =>
    String(1_700_000_000 + round * 10 + n),
  );
}

/** Kills the armed service once a write of a batch is held, then starts it again into the same group. */
async function crashWhileApplying(service: ServiceUnderTest, moreWork: () => Promise<void>): Promise<void> {
  const gate = service.gate!;
  let lastWork = Date.now();
  await eventually(
    async () => {
      if (gate.holding === 0) {
        // A batch may need fewer writes than the gate lets through before it holds one: then more
        // work is published, so that a write always comes to be held.
        if (Date.now() - lastWork > 2_000) {
          lastWork = Date.now();
          await moreWork();
        }
        const passed = JSON.stringify(Object.fromEntries(gate.passed));
        throw new Error(`${service.name} holds no write yet; passed to the store since armed: ${passed}`);
      }
    },
    120_000,
    50,
  );
  const holding = gate.holding;
  service.process!.kill('SIGKILL');
  await exited(service.process!);
  service.interrupted.push(holding);
  gate.disarm();
  start(service);
}

afterAll(async () => {
  for (const service of services) service.process?.kill('SIGKILL');
  for (const service of services) await service.gate?.close();
  await Promise.all(clean.map((c) => c.stop()));
  await mongo?.crashed.close();
  await mongo?.clean.close();
});

describe('crash safety', () => {
  it('projections SIGKILLed at random moments end equal to a clean run', async () => {
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'crash-test', logger });
    mongo = {
      crashed: await connectMongo(mongoUrlFor(crashedDb), 'crash-test'),
      clean: await connectMongo(mongoUrlFor(cleanDb), 'crash-test'),
    };
    for (const service of services) {
      service.gate = await StoreGate.start(mongoUrlFor(crashedDb));
      service.port = await freePort();
      service.group = uniqueName(`crashing-${service.name}`);
      start(service);
    }

    // Sealed with users' keys in the crashed services' store; the clean run reads keys from there too.
    const publisher = await SealingPublisher.connect(kafka, mongo.crashed.db);
    const kills = 3;
    const rounds = 20;
    // Rounds published while waiting for a write to hold, for an account the comparison leaves out.
    let extraRound = 1_000;
    const publishRound = async (round: number, app = appId) => {
      const events = Array.from({ length: 25 }, (_, i) => round * 25 + i).flatMap((user) =>
        pushesFor(user, round).map((fields) => canonicalEvent(app, fields)),
      );
      // A user's events in order, as a user's pushes reach the gateway: a follow's fresh key is the
      // one the user's next events are sealed with.
      const byUser = new Map<string, typeof events>();
      for (const event of events) byUser.set(event.subject!, [...(byUser.get(event.subject!) ?? []), event]);
      await Promise.all([...byUser.values()].map((mine) => publisher.publishAll(mine)));
    };
    const publishing = (async () => {
      for (let round = 0; round < rounds - kills; round++) {
        await publishRound(round);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    // A restarted member waits out its predecessor's session before it is given partitions; the
    // gate tells when it is applying again, whatever the machine's speed.
    // Each kill has a round of fresh users published after arming, so that writes beyond the ones
    // let through always come, whatever a restart had left to redo.
    for (let kill = 0; kill < kills; kill++) {
      for (const service of services) service.gate!.arm(randomInt(0, 4));
      await publishRound(rounds - kills + kill);
      await Promise.all(
        services.map((service) => crashWhileApplying(service, () => publishRound(extraRound++, busyAppId))),
      );
    }
    await publishing;
    await publisher.disconnect();
    for (const service of services) {
      expect({ service: service.name, kills: service.interrupted.length }).toEqual({
        service: service.name,
        kills,
      });
      for (const holding of service.interrupted) expect(holding).toBeGreaterThan(0);
      process.stdout.write(
        `crash safety: ${service.name} killed ${kills} times holding ${service.interrupted.join('/')} writes\n`,
      );
    }

    for (const service of services)
      clean.push(
        ...(await startConsumers(
          `clean-${service.name}`,
          kafka,
          mongo.clean,
          service.behaviours,
          mongo.crashed.db,
        )),
      );
    const snapshot = async (db: MongoConnection) =>
      Object.fromEntries(
        await Promise.all(
          services
            .flatMap((s) => s.collections)
            .map(
              async (name) =>
                [
                  name,
                  await db.db
                    .collection(name)
                    .find({ appId } as never)
                    .sort({ _id: 1 })
                    .toArray(),
                ] as const,
            ),
        ),
      );
    await eventually(
      async () => {
        const expected = await snapshot(mongo!.clean);
        expect(expected[ReadModels.subscribers]).toHaveLength(500);
        expect(await snapshot(mongo!.crashed)).toEqual(expected);
      },
      120_000,
      500,
    );

    const crashed = await snapshot(mongo.crashed);
    const sum = (name: string, field: string) =>
      (crashed[name] ?? []).reduce((total, doc) => total + ((doc as Record<string, number>)[field] ?? 0), 0);
    // What the traffic implies: 500 follows, 63 re-follows, 125 unfollows; 167 follows and 63
    // returns through codes, 42 unfollows of followers a code brought in, 250 scans.
    expect({
      follows: sum(ReadModels.followerCounts, 'follows'),
      unfollows: sum(ReadModels.followerCounts, 'unfollows'),
      subscribes: sum(ReadModels.campaignCounts, 'subscribes'),
      returning: sum(ReadModels.campaignCounts, 'returning'),
      unsubscribes: sum(ReadModels.campaignCounts, 'unsubscribes'),
      scans: sum(ReadModels.campaignCounts, 'scans'),
    }).toEqual({
      follows: 563,
      unfollows: 125,
      subscribes: 167,
      returning: 63,
      unsubscribes: 42,
      scans: 250,
    });
  }, 420_000);
});
