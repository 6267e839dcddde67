import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ReadModels, type CloudEvent } from '@wxp/contracts';
import { DATA_KEYS_COLLECTION, DataKeyStore, EventOpener, pseudonymOf } from '@wxp/privacy';
import { activeCollections } from '@wxp/mongo';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { freePort } from '../packages/devstack/src/free-port';
import { startInfrastructure, type StartedInfrastructure } from '../packages/devstack/src/infrastructure';
import { startLocalStack, type RunningStack } from '../packages/devstack/src/local-stack';
import { subscriberCollections } from '../services/subscriber-projection/src/projection-service';
import { eventually, uniqueName } from './support/infrastructure';

// What the platform promises about a user's personal data, on the whole stack as `npm start` runs
// it, with a broker and a store of its own so that every file they write can be searched: while the
// user follows, nothing personal is in clear on any topic; after an unfollow, or an erasure request,
// nothing personal is in clear or can be decrypted anywhere: topics, collections, files, a replay.

const dataDir = mkdtempSync(join(tmpdir(), 'wxp-personal-data-'));
let infrastructure: StartedInfrastructure | undefined;
let stack: RunningStack | undefined;
let client: MongoClient | undefined;
let db: Db;
let ports: Record<'gateway' | 'admin' | 'emulator', number>;
let env: NodeJS.ProcessEnv;
let account: { appId: string; token: string; originalId: string };
const adminToken = 'personal-data-admin-token-0123456789';
const privacyKey = 'personal-data-privacy-key-0123456789';

beforeAll(async () => {
  const [kafkaPort, controllerPort, mongoPort] = [await freePort(), await freePort(), await freePort()];
  infrastructure = await startInfrastructure({ dataDir, kafkaPort, controllerPort, mongoPort, env: {} });
  ports = { gateway: await freePort(), admin: await freePort(), emulator: await freePort() };
  env = {
    ...process.env,
    KAFKA_BROKERS: infrastructure.kafkaBrokers.join(','),
    MONGO_URL: infrastructure.mongoUrl,
    GATEWAY_PORT: String(ports.gateway),
    ADMIN_PORT: String(ports.admin),
    WECHAT_EMULATOR_PORT: String(ports.emulator),
    SUBSCRIBER_PROJECTION_PORT: String(await freePort()),
    QR_ATTRIBUTION_PORT: String(await freePort()),
    MENU_RESPONDER_PORT: String(await freePort()),
    PROFILE_ENRICHER_PORT: String(await freePort()),
    ADMIN_TOKEN: adminToken,
    PRIVACY_KEY: privacyKey,
  };
  stack = await startLocalStack({ dataDir, env, report: () => undefined });
  account = (JSON.parse(readFileSync(join(dataDir, 'accounts.json'), 'utf8')) as (typeof account)[])[0]!;
  client = await new MongoClient(infrastructure.mongoUrl).connect();
  db = client.db();
}, 240_000);

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  await infrastructure?.stop();
}, 120_000);

interface Person {
  name: string;
  openId: string;
  unionId: string;
  text: string;
  latitude: string;
  longitude: string;
  pseudonym: string;
}

/** A user WeChat knows (the emulator answers user/info for them), with personal data of their own. */
async function person(): Promise<Person> {
  const name = uniqueName('person');
  const unionId = `uUnion${createHash('sha256').update(name).digest('hex').slice(0, 22)}`;
  const response = await fetch(`http://127.0.0.1:${ports.emulator}/emulator/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: account.appId, users: [{ name, unionId }] }),
  });
  expect(response.status).toBe(201);
  const [user] = ((await response.json()) as { users: { openId: string }[] }).users;
  const digits = (n: number) => String(100000 + (parseInt(name.slice(-6), 16) % 800000) + n);
  return {
    name,
    openId: user!.openId,
    unionId,
    text: `my secret ${name}`,
    latitude: `23.${digits(1)}`,
    longitude: `113.${digits(2)}`,
    pseudonym: pseudonymOf(privacyKey, account.appId, user!.openId),
  };
}

async function push(who: Person, body: string): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = uniqueName('n');
  const signature = createHash('sha1')
    .update([account.token, timestamp, nonce].sort().join(''))
    .digest('hex');
  const response = await fetch(
    `http://127.0.0.1:${ports.gateway}/wechat/${account.appId}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`,
    {
      method: 'POST',
      body: `<xml><ToUserName>${account.originalId}</ToUserName><FromUserName>${who.openId}</FromUserName><CreateTime>${timestamp}</CreateTime>${body}</xml>`,
    },
  );
  expect(await response.text()).toBe('success');
}

let messageSequence = 0;
/** Follows through a QR code, says something, shares where they are, and gets their profile fetched. */
async function followAndTalk(who: Person): Promise<void> {
  await push(who, '<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_777</EventKey>');
  messageSequence += 1;
  await push(
    who,
    `<MsgType>text</MsgType><Content>${who.text}</Content><MsgId>${Date.now()}${messageSequence}</MsgId>`,
  );
  await push(
    who,
    `<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>${who.latitude}</Latitude><Longitude>${who.longitude}</Longitude><Precision>30</Precision>`,
  );
  await profileIs(who, 'known');
}

/** The profile read model's document of the user: fetched, or a tombstone with nothing personal. */
async function profileIs(who: Person, state: 'known' | 'erased'): Promise<void> {
  await eventually(
    async () =>
      expect(await db.collection(ReadModels.profiles).findOne({ _id: who.pseudonym as never })).toMatchObject(
        {
          state,
        },
      ),
    60_000,
    250,
  );
}

const secretsOf = (who: Person) => [who.openId, who.unionId, who.text, who.latitude, who.longitude];

interface RawMessage {
  topic: string;
  bytes: string;
  value: string;
  key: string;
}

/** Every message of every topic, as bytes: keys, headers and values. */
async function everyMessage(): Promise<RawMessage[]> {
  const kafka = new Kafka({
    brokers: infrastructure!.kafkaBrokers,
    clientId: 'scan',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
  const ends = new Map<string, Map<number, number>>();
  for (const topic of topics)
    ends.set(
      topic,
      new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])),
    );
  await admin.disconnect();
  const messages: RawMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('scan') });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const seen = new Map<string, number>();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = Object.entries(message.headers ?? {})
        .map(([name, value]) => `${name}=${String(value)}`)
        .join(';');
      const value = message.value?.toString('utf8') ?? '';
      const key = message.key?.toString('utf8') ?? '';
      messages.push({ topic, key, value, bytes: `${key}|${headers}|${value}` });
      seen.set(`${topic}:${partition}`, Number(message.offset) + 1);
    },
  });
  await eventually(
    async () => {
      for (const [topic, partitions] of ends)
        for (const [partition, high] of partitions)
          expect({ at: `${topic}:${partition}`, read: seen.get(`${topic}:${partition}`) ?? 0 }).toEqual({
            at: `${topic}:${partition}`,
            read: high,
          });
    },
    60_000,
    250,
  );
  await consumer.disconnect();
  return messages;
}

function expectNoneIn(where: string, text: string, secrets: string[]): void {
  const found = secrets.filter((secret) => text.includes(secret));
  expect({ where, found }).toEqual({ where, found: [] });
}

async function expectNothingInClearOnTopics(who: Person): Promise<RawMessage[]> {
  const messages = await everyMessage();
  expect(messages.length).toBeGreaterThan(0);
  for (const message of messages) expectNoneIn(message.topic, message.bytes, secretsOf(who));
  return messages;
}

/** The user's events, opened by a reader that has PRIVACY_KEY and the key store: all read as erased. */
async function expectUndecryptable(who: Person, messages: RawMessage[]): Promise<void> {
  const events = messages
    .filter((m) => m.key === who.pseudonym && !m.topic.startsWith('wechat.admin'))
    .map((m) => JSON.parse(m.value) as CloudEvent);
  expect(events.length).toBeGreaterThanOrEqual(4);
  const opened = await new EventOpener(new DataKeyStore(db, privacyKey)).open(events);
  for (const { event, erased } of opened) {
    if (event.type === 'wechat.user.erased') continue;
    expect({ id: event.id, type: event.type, erased }).toEqual({
      id: event.id,
      type: event.type,
      erased: true,
    });
    expectNoneIn(`${event.type} opened`, JSON.stringify(event), secretsOf(who));
  }
}

async function expectNoneInCollections(secrets: string[]): Promise<void> {
  for (const { name } of await db.listCollections().toArray()) {
    const documents = await db.collection(name).find().toArray();
    expectNoneIn(`collection ${name}`, JSON.stringify(documents), secrets);
  }
}

/** What the erased users had: checked against every file under the data folder at the end. */
const erasedSecrets: string[] = [];

/** Every file under the data folder: Kafka segments, the store's files, the services' logs. */
function expectNoneInFilesNow(secrets: string[]): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) return [];
      return stat.isDirectory() ? walk(path) : [path];
    });
  // The emulator stands in for WeChat, which knows its users: its log is not ours.
  const files = walk(dataDir).filter((path) => !path.includes('wechat-emulator'));
  expect(files.some((path) => path.endsWith('.sqlite'))).toBe(true);
  expect(files.some((path) => path.endsWith('.log') && path.includes('wechat.events.v2'))).toBe(true);
  for (const path of files) {
    const bytes = readFileSync(path);
    const found = secrets.filter((secret) => bytes.includes(Buffer.from(secret, 'utf8')));
    expect({ path, found }).toEqual({ path, found: [] });
  }
}

/** The wrapped data keys the store holds for the user now. */
async function wrappedKeysOf(who: Person): Promise<string[]> {
  const keys = await db.collection(DATA_KEYS_COLLECTION).find({ user: who.pseudonym }).toArray();
  return keys.map((k) => String(k.wrapped));
}

async function keysGone(who: Person): Promise<void> {
  await eventually(async () => expect(await wrappedKeysOf(who)).toEqual([]), 60_000, 250);
}

/** Rebuilds the subscriber read model from the log into fresh collections, as an operator would. */
async function replaySubscribers(): Promise<void> {
  const replay = spawn(
    process.execPath,
    [join(__dirname, '..', 'services', 'subscriber-projection', 'dist', 'replay.js')],
    {
      env: { ...env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  replay.stdout?.on('data', (d) => (output += String(d)));
  replay.stderr?.on('data', (d) => (output += String(d)));
  const code = await new Promise<number | null>((resolve) => replay.once('exit', resolve));
  expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
}

describe("a user's personal data", () => {
  it('is never in clear on a topic, and after an unfollow is nowhere in clear nor decryptable', async () => {
    const who = await person();
    await followAndTalk(who);
    await expectNothingInClearOnTopics(who);
    const wrapped = await wrappedKeysOf(who);
    expect(wrapped.length).toBeGreaterThan(0);

    await push(who, '<MsgType>event</MsgType><Event>unsubscribe</Event>');
    await keysGone(who);
    await profileIs(who, 'erased');
    const messages = await expectNothingInClearOnTopics(who);
    await expectUndecryptable(who, messages);
    await replaySubscribers();
    await expectNoneInCollections([...secretsOf(who), ...wrapped]);
    erasedSecrets.push(...secretsOf(who), ...wrapped);
  }, 300_000);

  it('is nowhere in clear nor decryptable after an erasure request, though the user still follows', async () => {
    const who = await person();
    await followAndTalk(who);
    await expectNothingInClearOnTopics(who);
    const wrapped = await wrappedKeysOf(who);

    const response = await fetch(
      `http://127.0.0.1:${ports.admin}/api/apps/${account.appId}/users/${who.openId}`,
      {
        method: 'DELETE',
        headers: { authorization: `Bearer ${adminToken}` },
      },
    );
    expect(response.status).toBe(202);
    expect(await response.text()).not.toContain(who.openId);
    await keysGone(who);
    await eventually(
      async () => {
        // An earlier replay may have pointed the read model at collections of its own.
        const { subscribers } = await activeCollections(db, 'subscriber-projection', subscriberCollections);
        const subscriber = await db.collection(subscribers).findOne({ _id: who.pseudonym as never });
        expect(subscriber).toMatchObject({ state: 'following' });
        expect(subscriber).not.toHaveProperty('openId');
      },
      60_000,
      250,
    );
    await profileIs(who, 'erased');
    const messages = await expectNothingInClearOnTopics(who);
    await expectUndecryptable(who, messages);
    await replaySubscribers();
    await expectNoneInCollections([...secretsOf(who), ...wrapped]);
    erasedSecrets.push(...secretsOf(who), ...wrapped);
  }, 300_000);

  it("leaves none of the erased users' data in any file: Kafka segments, the store's files, logs", async () => {
    expect(erasedSecrets.length).toBeGreaterThanOrEqual(10);
    // Everything stopped, so that every segment and log line has reached its file and the store
    // has copied its write-ahead log into the database file (it also does so every few seconds
    // when no reader holds an older snapshot).
    await client?.close();
    client = undefined;
    await stack?.stop();
    stack = undefined;
    await infrastructure?.stop();
    infrastructure = undefined;
    expectNoneInFilesNow(erasedSecrets);
  }, 180_000);
});
