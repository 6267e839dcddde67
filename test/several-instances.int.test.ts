import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ReadModels, ReplyRulesSet, Topics, sourceOfApp } from '@wxp/contracts';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { qrAttributionConsumers } from '../services/qr-attribution/src/attribution-service';
import { subscriberProjectionConsumers } from '../services/subscriber-projection/src/projection-service';
import {
  eventually,
  exited,
  kafkaBrokers,
  mongoUrlFor,
  uniqueName,
  untilHealthy,
  type WatchedProcess,
} from './support/infrastructure';
import { testPrivacyKey } from './support/privacy';
import { pushMixOf } from './support/push-mix';
import { startConsumers } from './support/running-consumers';
import { startEmulator, type RunningEmulator } from './support/running-emulator';
import { signedPush, testAccount, type PushFieldValues } from './support/wechat-push';

// Two gateway processes, every push delivered to one and WeChat's retry of it to the other; two
// processes of each consumer service in one group, one of each SIGKILLed while pushes keep coming.
// The projections' read models must end equal to those of one clean consumer each, with each push
// counted once; the menu responder answers no click twice and loses only replies being sent at the
// kill; the profile enricher files one profile per user: nothing lost, nothing applied twice.
const logger = pino({ level: 'silent' });
// Keys outlive the test: a click read after its user's unfollow would otherwise find the key gone
// and rightly get no reply, and how many of those there are depends on how late the kill makes them.
const account = testAccount({ erasureGraceSeconds: 3600 });
const database = uniqueName('instances');
const cleanDatabase = uniqueName('instances-clean');
const dir = mkdtempSync(join(tmpdir(), 'wxp-instances-'));
const children: ChildProcess[] = [];
const clean: RunningConsumer[] = [];
let mongo: { live: MongoConnection; clean: MongoConnection } | undefined;
let emulator: RunningEmulator | undefined;
/** A responder may lose the replies it is sending when killed: one per partition applied, four at once. */
const partitionsAppliedAtOnce = 4;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await emulator?.close();
  await Promise.all(clean.map((c) => c.stop()));
  await mongo?.live.close();
  await mongo?.clean.close();
  rmSync(dir, { recursive: true, force: true });
});

const watchedChildren = new Map<ChildProcess, WatchedProcess>();

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
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let printed = '';
  child.stderr?.on('data', (chunk: Buffer) => (printed = (printed + chunk.toString()).slice(-8000)));
  children.push(child);
  watchedChildren.set(child, { child, output: () => printed });
  return child;
}

/** The shared mix of pushes (test/support/push-mix), in the last minute. */
function pushesOf(user: number, openId: string, now: number): PushFieldValues[] {
  return pushMixOf(user, { ToUserName: account.originalId!, FromUserName: openId }, (n) =>
    String(now - 60 + n),
  );
}

describe('several instances of every service', () => {
  it('count every push once, with retries on the other gateway and a consumer of each killed under load', async () => {
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([account]));
    const users = 80;
    emulator = await startEmulator([account]);
    const created = await emulator.control('users', {
      appId: account.appId,
      users: Array.from({ length: users }, (_, i) => ({ name: `instance-user-${i}` })),
    });
    const openIds = (created.body.users as { openId: string }[]).map((u) => u.openId);
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'instances-test', logger });
    const admin = await EventPublisher.connect(kafka);
    await admin.publish({
      topic: Topics.admin,
      key: account.appId,
      event: {
        specversion: '1.0',
        id: randomUUID(),
        source: sourceOfApp(account.appId),
        type: ReplyRulesSet.type,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        dataschema: ReplyRulesSet.dataschema,
        data: {
          appId: account.appId,
          menu: { k: { msgtype: 'text', text: { content: 'clicked' } } },
          welcome: {},
        },
      },
    });
    await admin.disconnect();
    const wechat = { WECHAT_API_BASE: emulator.baseUrl, WECHAT_ACCOUNTS_FILE: accountsFile };
    const gatewayPorts = [await freePort(), await freePort()];
    const gateways = gatewayPorts.map((port) =>
      startService('gateway', { GATEWAY_PORT: String(port), WECHAT_ACCOUNTS_FILE: accountsFile }),
    );
    const services = [
      ['subscriber-projection', 'SUBSCRIBER_PROJECTION', {}],
      ['qr-attribution', 'QR_ATTRIBUTION', {}],
      ['menu-responder', 'MENU_RESPONDER', wechat],
      ['profile-enricher', 'PROFILE_ENRICHER', wechat],
    ] as const;
    const consumers: { service: string; child: ChildProcess; port: number; instance: number }[] = [];
    for (const [service, prefix, env] of services) {
      const group = uniqueName(`instances-${service}`);
      for (let instance = 0; instance < 2; instance++) {
        const port = await freePort();
        const child = startService(service, {
          ...env,
          [`${prefix}_PORT`]: String(port),
          [`${prefix}_GROUP`]: group,
        });
        consumers.push({ service, child, port, instance });
      }
    }
    await Promise.all(
      [
        ...gatewayPorts.map((port, n) => ({ port, child: gateways[n]! })),
        ...consumers.map(({ port, child }) => ({ port, child })),
      ].map(({ port, child }) => untilHealthy(port, undefined, watchedChildren.get(child))),
    );
    // Clicks before the rules are in the responders' store would get no reply at all.
    const store = await connectMongo(mongoUrlFor(database), 'instances-test');
    await eventually(
      async () =>
        expect(
          await store.db.collection(ReadModels.replyRules).countDocuments({ _id: account.appId } as never),
        ).toBe(1),
      60_000,
      200,
    );
    await store.close();

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
          for (const [n, fields] of pushesOf(user, openIds[user]!, now).entries()) {
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
    const killed = consumers.filter((c) => c.instance === 1);
    for (const { child } of killed) child.kill('SIGKILL');
    await Promise.all(killed.map((k) => exited(k.child)));
    await second;

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
    const pushes = Array.from({ length: users }, (_, user) => pushesOf(user, openIds[user]!, now)).flat();
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

    // One profile per user, whichever enricher fetched it.
    await eventually(
      async () =>
        expect(
          await mongo!.live.db.collection(ReadModels.profiles).countDocuments({ appId: account.appId }),
        ).toBe(users),
      120_000,
      500,
    );
    // Every click answered at most once; only replies being sent at the kill may be lost.
    const clicks = pushes.filter((p) => p.Event === 'CLICK').length;
    const answered = async () => (await emulator!.state(account.appId)).messages;
    await eventually(
      async () => expect((await answered()).length).toBeGreaterThanOrEqual(clicks - partitionsAppliedAtOnce),
      120_000,
      500,
    );
    const perUser = new Map<string, number>();
    for (const message of await answered())
      perUser.set(message.touser, (perUser.get(message.touser) ?? 0) + 1);
    expect([...perUser.values()].filter((n) => n > 1)).toEqual([]);
    expect([...perUser.keys()].every((openId) => openIds.includes(openId))).toBe(true);
  }, 300_000);
});
