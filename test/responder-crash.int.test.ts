import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadModels } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { eventually, exited, kafkaBrokers, mongoUrlFor, uniqueName } from './support/infrastructure';
import { canonicalEvent, SealingPublisher } from './support/privacy';
import { startAdmin, type RunningAdmin } from './support/running-admin';
import { startEmulator, type RunningEmulator } from './support/running-emulator';
import { WechatGate, type HeldSend } from './support/wechat-gate';
import { testAccount } from './support/wechat-push';

// The menu responder runs as its own process and is SIGKILLed while it is sending replies: each
// kill comes once a send is caught in the gate between the responder and WeChat, so every kill
// interrupts a reply. Per event: no reply is sent twice, and the replies lost are the ones being
// sent at the kill, at most one per partition applied, four at a time (README).
const partitionsAppliedAtOnce = 4;
const kills = 3;
const rounds = kills + 2;
const logger = pino({ level: 'silent' });
const account = testAccount();
const secrets = { adminToken: 'responder-crash-admin-token', privacyKey: 'responder-crash-privacy-key' };
const database = uniqueName('responder-crash');
let responder: ChildProcess | undefined;
let emulator: RunningEmulator | undefined;
let gate: WechatGate | undefined;
let admin: RunningAdmin | undefined;
let mongo: MongoConnection | undefined;
let publisher: SealingPublisher | undefined;

afterAll(async () => {
  responder?.kill('SIGKILL');
  await publisher?.disconnect();
  await admin?.close();
  await gate?.close();
  await emulator?.close();
  await mongo?.close();
});

describe('menu responder crash safety', () => {
  it('never sends a reply twice across SIGKILLs, and loses only the replies being sent', async () => {
    mongo = await connectMongo(mongoUrlFor(database), 'responder-crash');
    emulator = await startEmulator([account]);
    gate = await WechatGate.start(emulator.baseUrl);
    admin = await startAdmin(mongo, secrets, { accounts: [account], wechatApiBase: emulator.baseUrl });
    // One key and one distinct reply per round: a message names the event it answers.
    const replyOf = (round: number) => `reply-${round}`;
    const menu = Object.fromEntries(
      Array.from({ length: rounds }, (_, round) => [
        `K${round}`,
        { msgtype: 'text', text: { content: replyOf(round) } },
      ]),
    );
    expect((await admin.request('PUT', `/api/apps/${account.appId}/replies`, { menu })).status).toBe(202);
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
          WECHAT_API_BASE: gate!.baseUrl,
          WECHAT_ACCOUNTS_FILE: accountsFile,
          MENU_RESPONDER_GROUP: group,
          MENU_RESPONDER_PORT: String(port),
          LOG_LEVEL: 'error',
        },
        stdio: 'ignore',
      });
    responder = start();
    // Clicks before the rules are in the responder's store would get no reply at all.
    await eventually(
      async () =>
        expect(
          await mongo!.db.collection(ReadModels.replyRules).countDocuments({ _id: account.appId } as never),
        ).toBe(1),
      60_000,
      200,
    );

    // Sealed with keys in the responder's own store, under its PRIVACY_KEY, as the gateway would.
    publisher = await SealingPublisher.connect(
      createKafka({ brokers: kafkaBrokers(), clientId: 'responder-crash', logger }),
      mongo.db,
      secrets.privacyKey,
    );
    const createTime = String(Math.floor(Date.now() / 1000) - 10);
    /** Event id → what answers it: the user and the round's reply. */
    const answerOf = new Map<string, string>();
    const publishRound = async (round: number) => {
      const events = openIds.map((openId) => {
        const event = canonicalEvent(
          account.appId,
          {
            ToUserName: account.originalId ?? 'gh',
            FromUserName: openId,
            CreateTime: createTime,
            MsgType: 'event',
            Event: 'CLICK',
            EventKey: `K${round}`,
          },
          secrets.privacyKey,
        );
        answerOf.set(event.id, `${openId}|${replyOf(round)}`);
        return event;
      });
      await Promise.all(events.map((event) => publisher!.publish(event)));
    };

    const interrupted: { held: HeldSend[]; holding: number }[] = [];
    for (let kill = 0; kill < kills; kill++) {
      const mode = kill % 2 === 0 ? 'before' : 'after';
      gate.arm(randomInt(0, 6), mode);
      await publishRound(kill);
      // Killed only while a send is in the gate: assigned partitions, applying a batch, mid-reply.
      await eventually(async () => expect(gate!.holding).toBeGreaterThan(0), 120_000, 50);
      const holding = gate.holding;
      responder.kill('SIGKILL');
      await exited(responder);
      interrupted.push({ held: [...gate.held], holding });
      gate.disarm();
      responder = start();
    }
    for (let round = kills; round < rounds; round++) await publishRound(round);

    const sent = mongo.db.collection<{ _id: string; status: string }>('sent_replies');
    await eventually(
      async () =>
        expect(await sent.countDocuments({ _id: { $in: [...answerOf.keys()] } })).toBe(answerOf.size),
      120_000,
      500,
    );
    // A graceful stop finishes the send in flight: what is left at "sending" was left by a kill.
    responder.kill('SIGTERM');
    await exited(responder);

    const status = new Map(
      (await sent.find({ _id: { $in: [...answerOf.keys()] } }).toArray()).map((m) => [m._id, m.status]),
    );
    const delivered = new Map<string, number>();
    for (const m of (await emulator.state(account.appId)).messages) {
      const key = `${m.touser}|${String((m.message.text as { content?: string } | undefined)?.content)}`;
      delivered.set(key, (delivered.get(key) ?? 0) + 1);
    }
    const lost: string[] = [];
    for (const [eventId, answer] of answerOf) {
      const times = delivered.get(answer) ?? 0;
      expect({ eventId, times: Math.min(times, 1) }).toEqual({ eventId, times });
      if (status.get(eventId) === 'sent') expect({ eventId, times }).toEqual({ eventId, times: 1 });
      else expect({ eventId, status: status.get(eventId) }).toEqual({ eventId, status: 'sending' });
      if (times === 0) lost.push(eventId);
    }
    for (const { held, holding } of interrupted) {
      // Each kill caught at least one reply on its way, and no more than the partitions applied.
      expect(holding).toBeGreaterThan(0);
      expect(held.length).toBeLessThanOrEqual(partitionsAppliedAtOnce);
      for (const send of held) {
        expect({ ...send, times: delivered.get(`${send.touser}|${send.content}`) ?? 0 }).toEqual({
          ...send,
          times: send.mode === 'before' ? 0 : 1,
        });
      }
    }
    const stuck = [...status.values()].filter((s) => s === 'sending').length;
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThanOrEqual(kills * partitionsAppliedAtOnce);
    expect(stuck).toBeLessThanOrEqual(kills * partitionsAppliedAtOnce);
    process.stdout.write(
      `responder crash: ${answerOf.size} clicks, ${kills} kills holding ${interrupted.map((i) => i.holding).join('/')} sends, ` +
        `${lost.length} replies lost, ${stuck} markers left at sending, none sent twice\n`,
    );
  }, 420_000);
});
