import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics } from '@wxp/contracts';
import { EventPublisher, createKafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { partitionKeyOf, toCanonicalEvent } from '../services/gateway/src/canonical-event';
import { freePort } from '../packages/devstack/src/free-port';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { startAdmin, type RunningAdmin } from './support/running-admin';
import { startEmulator, type RunningEmulator } from './support/running-emulator';
import { testAccount } from './support/wechat-push';

// The menu responder is killed with SIGKILL while clicks flow: no click may be answered twice,
// and a crash may cost at most the replies it was sending, one per partition it was applying.
const partitionsAppliedAtOnce = 4;
const logger = pino({ level: 'silent' });
const account = testAccount();
const secrets = { adminToken: 'responder-crash-admin-token', privacyKey: 'responder-crash-privacy-key' };
const database = uniqueName('responder-crash');
let responder: ChildProcess | undefined;
let emulator: RunningEmulator | undefined;
let admin: RunningAdmin | undefined;
let mongo: MongoConnection | undefined;

afterAll(async () => {
  responder?.kill('SIGKILL');
  await admin?.close();
  await emulator?.close();
  await mongo?.close();
});

describe('menu responder crash safety', () => {
  it('never sends a reply twice across SIGKILLs', async () => {
    mongo = await connectMongo(mongoUrlFor(database), 'responder-crash');
    emulator = await startEmulator([account]);
    admin = await startAdmin(mongo, secrets, { accounts: [account], wechatApiBase: emulator.baseUrl });
    expect(
      (
        await admin.request('PUT', `/api/apps/${account.appId}/replies`, {
          menu: { K: { msgtype: 'text', text: { content: 'thanks' } } },
        })
      ).status,
    ).toBe(202);
    const created = await emulator.control('users', {
      appId: account.appId,
      users: Array.from({ length: 40 }, (_, i) => ({ name: `clicker-${i}` })),
    });
    const openIds = (created.body.users as { openId: string }[]).map((u) => u.openId);

    const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-responder-')), 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([account]));
    const port = await freePort();
    const group = uniqueName('menu-responder');
    const start = () =>
      spawn(process.execPath, [join(__dirname, '..', 'services', 'menu-responder', 'dist', 'main.js')], {
        env: {
          ...process.env,
          MONGO_URL: mongoUrlFor(database),
          PRIVACY_KEY: secrets.privacyKey,
          WECHAT_API_BASE: emulator!.baseUrl,
          WECHAT_ACCOUNTS_FILE: accountsFile,
          MENU_RESPONDER_GROUP: group,
          MENU_RESPONDER_PORT: String(port),
          LOG_LEVEL: 'error',
        },
        stdio: 'ignore',
      });
    responder = start();

    const publisher = await EventPublisher.connect(
      createKafka({ brokers: kafkaBrokers(), clientId: 'responder-crash', logger }),
    );
    const startedAt = Math.floor(Date.now() / 1000);
    // Distinct CreateTimes: the same user clicking the same key in the same second is one push.
    const click = (openId: string, secondsAgo: number) => {
      const event = toCanonicalEvent(account.appId, {
        ToUserName: account.originalId ?? 'gh',
        FromUserName: openId,
        CreateTime: String(startedAt - secondsAgo),
        MsgType: 'event',
        Event: 'CLICK',
        EventKey: 'K',
      });
      return publisher.publish({ topic: Topics.events, key: partitionKeyOf(event), event });
    };
    const messages = async () => (await emulator!.state(account.appId)).messages;
    // The group starts at the end of the topic: wait until a probe click is answered.
    await eventually(
      async () => {
        await click(openIds[0] as string, 1000 + Math.floor(Math.random() * 1000));
        expect((await messages()).length).toBeGreaterThan(0);
      },
      60_000,
      1000,
    );
    const before = await mongo.db
      .collection('sent_replies')
      .countDocuments({ appId: account.appId } as never);

    const clicks = 5;
    const publishing = (async () => {
      for (let round = 0; round < clicks; round++) {
        await Promise.all(openIds.slice(1).map((openId) => click(openId, 100 + round)));
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    const kills = 3;
    for (let kill = 0; kill < kills; kill++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      responder.kill('SIGKILL');
      responder = start();
    }
    await publishing;
    await publisher.disconnect();

    const expected = (openIds.length - 1) * clicks;
    const sent = mongo.db.collection('sent_replies');
    await eventually(
      async () =>
        expect(
          await sent.countDocuments({ appId: account.appId, _id: { $exists: true } } as never),
        ).toBeGreaterThanOrEqual(before + expected),
      90_000,
      500,
    );
    const clickers = new Set(openIds.slice(1));
    const replies = (await messages()).filter((m) => clickers.has(m.touser));
    const perUser = new Map<string, number>();
    for (const m of replies) perUser.set(m.touser, (perUser.get(m.touser) ?? 0) + 1);
    for (const count of perUser.values()) expect(count).toBeLessThanOrEqual(clicks);
    const lost = expected - replies.length;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(kills * partitionsAppliedAtOnce);
    // Every reply lost is accounted for by a marker left at "sending".
    const stuck = await sent.countDocuments({ appId: account.appId, status: 'sending' } as never);
    expect(stuck).toBeGreaterThanOrEqual(lost);
    expect(stuck).toBeLessThanOrEqual(kills * partitionsAppliedAtOnce);
  }, 180_000);
});
