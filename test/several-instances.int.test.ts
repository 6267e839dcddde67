import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadModels } from '@wxp/contracts';
import { createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { qrAttributionConsumers } from '../services/qr-attribution/src/attribution-service';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { testPrivacyKey } from './support/privacy';
import { startConsumers } from './support/running-consumers';
import { signedPush, testAccount, type PushFieldValues } from './support/wechat-push';

// Two gateway processes, every push delivered to one and WeChat's retry of it to the other; two
// processes of each projection in one group, one of each SIGKILLed while pushes keep coming. The
// read models must end equal to those of one clean consumer per projection, with each push counted
// once: nothing lost, nothing applied twice.
const logger = pino({ level: 'silent' });
const account = testAccount();
const database = uniqueName('instances');
const cleanDatabase = uniqueName('instances-clean');
const dir = mkdtempSync(join(tmpdir(), 'wxp-instances-'));
const children: ChildProcess[] = [];
const clean: RunningConsumer[] = [];
let mongo: { live: MongoConnection; clean: MongoConnection } | undefined;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(clean.map((c) => c.stop()));
  await mongo?.live.close();
  await mongo?.clean.close();
  rmSync(dir, { recursive: true, force: true });
});

function startService(service: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', 'services', service, 'dist', 'main.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      MONGO_URL: mongoUrlFor(database),
      PRIVACY_KEY: testPrivacyKey,
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function healthy(port: number): Promise<void> {
  await eventually(
    async () =>
      expect((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status).toBe(200),
    90_000,
    250,
  );
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** One user's pushes, in order: a follow (some through a code), a click, a scan, an unfollow, a return. */
function pushesOf(user: number, now: number): PushFieldValues[] {
  const base = { ToUserName: account.originalId!, FromUserName: `oInstances${user}`, MsgType: 'event' };
  const at = (n: number) => now - 60 + n;
  const pushes: PushFieldValues[] = [
    {
      ...base,
      CreateTime: at(0),
      Event: 'subscribe',
      ...(user % 3 === 0 ? { EventKey: `qrscene_${user % 5}` } : {}),
    },
    { ...base, CreateTime: at(1), Event: 'CLICK', EventKey: 'k' },
  ];
  if (user % 2 === 0)
    pushes.push({ ...base, CreateTime: at(2), Event: 'SCAN', EventKey: String((user % 4) + 1) });
  if (user % 4 === 0) pushes.push({ ...base, CreateTime: at(3), Event: 'unsubscribe' });
  if (user % 8 === 0)
    pushes.push({ ...base, CreateTime: at(4), Event: 'subscribe', EventKey: 'qrscene_back' });
  return pushes;
}

describe('several instances of every service', () => {
  it('count every push once, with retries on the other gateway and a consumer of each killed under load', async () => {
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([account]));
    const gatewayPorts = [await freePort(), await freePort()];
    for (const port of gatewayPorts)
      startService('gateway', { GATEWAY_PORT: String(port), WECHAT_ACCOUNTS_FILE: accountsFile });
    const groups = {
      subscribers: uniqueName('instances-subscribers'),
      attribution: uniqueName('instances-qr'),
    };
    const consumers: { service: string; child: ChildProcess; port: number }[] = [];
    for (let instance = 0; instance < 2; instance++) {
      for (const [service, prefix, group] of [
        ['subscriber-projection', 'SUBSCRIBER_PROJECTION', groups.subscribers],
        ['qr-attribution', 'QR_ATTRIBUTION', groups.attribution],
      ] as const) {
        const port = await freePort();
        const child = startService(service, { [`${prefix}_PORT`]: String(port), [`${prefix}_GROUP`]: group });
        consumers.push({ service, child, port });
      }
    }
    await Promise.all([...gatewayPorts, ...consumers.map((c) => c.port)].map(healthy));

    const users = 80;
    const now = Math.floor(Date.now() / 1000);
    let delivered = 0;
    const deliver = async (fields: PushFieldValues, port: number) => {
      const { query, body } = signedPush(account, fields);
      const answer = await fetch(`http://127.0.0.1:${port}/wechat/${account.appId}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      expect(answer.status).toBe(200);
    };
    // A user's pushes in order; each to one gateway, then its retry to the other.
    const sendUsers = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, async (_, i) => {
          const user = from + i;
          for (const [n, fields] of pushesOf(user, now).entries()) {
            const first = (user + n) % 2;
            await deliver(fields, gatewayPorts[first]!);
            await deliver(fields, gatewayPorts[1 - first]!);
            delivered += 1;
          }
        }),
      );

    await sendUsers(0, users / 2);
    // Killed while the second half is on its way: the survivors take the killed ones' partitions.
    const second = sendUsers(users / 2, users);
    const killed = [consumers[2]!, consumers[3]!];
    for (const { child } of killed) child.kill('SIGKILL');
    await Promise.all(killed.map((k) => exited(k.child)));
    await second;

    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'instances-test', logger });
    mongo = {
      live: await connectMongo(mongoUrlFor(database), 'instances-test'),
      clean: await connectMongo(mongoUrlFor(cleanDatabase), 'instances-test'),
    };
    clean.push(
      ...(await startConsumers(
        'clean-subscribers',
        kafka,
        mongo.clean,
        subscriberProjectionConsumers(testPrivacyKey),
        mongo.live.db,
      )),
      ...(await startConsumers(
        'clean-attribution',
        kafka,
        mongo.clean,
        qrAttributionConsumers(),
        mongo.live.db,
      )),
    );
    const collections = [
      ReadModels.subscribers,
      ReadModels.followerCounts,
      ReadModels.attributionUsers,
      ReadModels.campaignCounts,
    ];
    const snapshot = async (db: MongoConnection) =>
      Object.fromEntries(
        await Promise.all(
          collections.map(
            async (name) =>
              [
                name,
                await db.db
                  .collection(name)
                  .find({ appId: account.appId } as never)
                  .sort({ _id: 1 })
                  .toArray(),
              ] as const,
          ),
        ),
      );
    const pushes = Array.from({ length: users }, (_, user) => pushesOf(user, now)).flat();
    const follows = pushes.filter((p) => p.Event === 'subscribe').length;
    const unfollows = pushes.filter((p) => p.Event === 'unsubscribe').length;
    const sum = (docs: unknown[], field: string) =>
      docs.reduce<number>((total, doc) => total + ((doc as Record<string, number>)[field] ?? 0), 0);
    await eventually(
      async () => {
        const live = await snapshot(mongo!.live);
        expect(live[ReadModels.subscribers]).toHaveLength(users);
        expect({
          follows: sum(live[ReadModels.followerCounts] ?? [], 'follows'),
          unfollows: sum(live[ReadModels.followerCounts] ?? [], 'unfollows'),
        }).toEqual({ follows, unfollows });
        expect(live).toEqual(await snapshot(mongo!.clean));
      },
      120_000,
      500,
    );
    expect(delivered).toBe(pushes.length);
  }, 300_000);
});
