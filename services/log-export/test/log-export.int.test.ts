import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, type CloudEvent, type WechatEvent } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import type { Db } from 'mongodb';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { profileFetched } from '../../profile-enricher/src/profile-events';
import { kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import {
  SealingPublisher,
  canonicalEvent,
  testPrivacyKey,
  testPseudonymOf,
} from '../../../test/support/privacy';
import { columns, rowFrom } from '../src/columns';
import { ParquetWriter } from '../src/parquet-writer';
import { runNodeProgram, type ProgramRun } from '../../../test/support/node-program';

// The export program as an operator runs it, against a history this test writes to the shared
// topics: its own account, and a window of log time that holds nothing of other tests' accounts.
const program = join(__dirname, '..', 'dist', 'export.js');
const reader = join(__dirname, 'support', 'read-parquet.mjs');
const work = mkdtempSync(join(tmpdir(), 'wxp-export-'));
const appId = `wx-export-${Date.now().toString(36)}`;
const keysDatabase = uniqueName('export-keys');
const follower = 'o-export-follower-5c2a';
const erased = 'o-export-erased-91bd';
const followerText = 'follower says: meet at gate 4';
const erasedText = 'erased says: call me on 139 1234 5678';

let client: MongoClient;
let keysDb: Db;
let publisher: SealingPublisher;
let since: number;
let until: number;
const history: CloudEvent[] = [];
const personalOf = new Map<string, { openId: string; content?: string }>();

let createTime = 1_790_000_000;
function push(openId: string, fields: Record<string, string>, app = appId): WechatEvent {
  createTime += 1;
  return canonicalEvent(app, {
    ToUserName: 'gh_export',
    FromUserName: openId,
    CreateTime: String(createTime),
    ...fields,
  }) as WechatEvent;
}
const subscribe = (openId: string) =>
  push(openId, { MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_2024', Ticket: 'gQH-export' });
const text = (openId: string, content: string) =>
  push(openId, { MsgType: 'text', Content: content, MsgId: String(createTime * 10) });
const click = (openId: string) => push(openId, { MsgType: 'event', Event: 'CLICK', EventKey: 'MENU_PRICES' });

async function publish(event: CloudEvent, topic: string = Topics.events): Promise<void> {
  await publisher.publish(event as WechatEvent, topic);
}

type Run = ProgramRun;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runNodeProgram(command, args, {
    cwd: work,
    env: { PATH: process.env.PATH, KAFKA_BROKERS: kafkaBrokers().join(','), ...env },
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const decryption = { MONGO_URL: mongoUrlFor(keysDatabase), PRIVACY_KEY: testPrivacyKey };

function exportTo(out: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(
    program,
    ['--app', appId, '--since', iso(since), '--until', iso(until), '--out', out, ...extra],
    env,
  );
}

type JsonRow = Record<string, unknown>;
const byId = (a: JsonRow, b: JsonRow) => String(a.id).localeCompare(String(b.id));

function ndjsonRows(path: string): JsonRow[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return (
    text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as JsonRow)
      // A line leaves its null columns out.
      .map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.name] ?? null])))
      .sort(byId)
  );
}

interface ParquetRead {
  schema: { name: string; type: string; logical: string | null }[];
  rowGroups: number;
  codecs: string[];
  rows: JsonRow[];
}

async function parquetRows(path: string): Promise<ParquetRead> {
  const read = await run(reader, [path]);
  expect(read.stderr).toBe('');
  expect(read.code).toBe(0);
  const parsed = JSON.parse(read.stdout) as ParquetRead;
  return { ...parsed, rows: parsed.rows.sort(byId) };
}

/** What the file must hold of each event of the history: the columns this test can know in advance. */
function expectedRow(event: CloudEvent, decrypted: boolean): JsonRow {
  const data = event.data as Record<string, unknown>;
  const fields = (data.fields ?? {}) as Record<string, string>;
  const personal = personalOf.get(event.id);
  const clear = decrypted && personal !== undefined && personal.openId !== erased;
  const profile = event.type.startsWith('wechat.profile.');
  return {
    topic: profile ? Topics.profiles : Topics.events,
    id: event.id,
    type: event.type,
    time: iso(Date.parse(event.time)),
    appId,
    pseudonym: event.subject,
    openId: clear ? personal.openId : null,
    msgType: profile ? null : (fields.MsgType ?? null),
    event: fields.Event ?? null,
    eventKey: fields.EventKey ?? null,
    scene: event.type === 'wechat.user.subscribed' ? '2024' : profile ? 'spring' : null,
    sceneId: event.type === 'wechat.user.subscribed' ? 2024 : null,
    ticket: event.type === 'wechat.user.subscribed' ? 'gQH-export' : null,
    menuKey: event.type === 'wechat.menu.clicked' ? 'MENU_PRICES' : null,
    msgId: fields.MsgId ?? null,
    content: clear ? (personal.content ?? null) : null,
    unionId: clear && profile ? 'u-export-union' : null,
    subscribed: profile ? true : null,
    causedBy: profile ? (data.causedBy as string) : null,
  };
}

function essentials(row: JsonRow): JsonRow {
  const expected = expectedRow(
    history.find((e) => e.id === row.id)!,
    false,
  );
  return Object.fromEntries(Object.keys(expected).map((name) => [name, row[name]]));
}

beforeAll(async () => {
  if (!existsSync(program)) throw new Error(`${program} is missing: npm test builds it (npm run build)`);
  client = await new MongoClient(mongoUrlFor(keysDatabase)).connect();
  keysDb = client.db();
  const kafka = createKafka({
    brokers: kafkaBrokers(),
    clientId: 'log-export-test',
    logger: pino({ level: 'silent' }),
  });
  publisher = await SealingPublisher.connect(kafka, keysDb);

  const before = subscribe('o-export-too-early');
  await publish(before);
  await new Promise((resolve) => setTimeout(resolve, 20));
  since = Date.now();
  const events: [CloudEvent, string][] = [];
  const followed = subscribe(follower);
  const said = text(follower, followerText);
  const erasedFollowed = subscribe(erased);
  const erasedSaid = text(erased, erasedText);
  personalOf.set(followed.id, { openId: follower });
  personalOf.set(said.id, { openId: follower, content: followerText });
  personalOf.set(erasedFollowed.id, { openId: erased });
  personalOf.set(erasedSaid.id, { openId: erased, content: erasedText });
  const clicked = click(follower);
  personalOf.set(clicked.id, { openId: follower });
  events.push([followed, Topics.events], [said, Topics.events], [clicked, Topics.events]);
  events.push([erasedFollowed, Topics.events], [erasedSaid, Topics.events]);
  for (const [openId, cause] of [
    [follower, followed.id],
    [erased, erasedFollowed.id],
  ] as const) {
    const profile = profileFetched(
      appId,
      testPseudonymOf(appId, openId),
      {
        subscribe: 1,
        openid: openId,
        unionid: 'u-export-union',
        qr_scene_str: 'spring',
        tagid_list: [2, 101],
      },
      cause,
    );
    personalOf.set(profile.id, { openId });
    events.push([profile, Topics.profiles]);
  }
  for (const [event, topic] of events) {
    await publish(event, topic);
    history.push(event);
  }
  // Another account's event in the same window: not this export's.
  await publish(
    push('o-export-elsewhere', { MsgType: 'event', Event: 'CLICK', EventKey: 'X' }, `${appId}-b`),
  );
  until = Date.now() + 1;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await publish(text(follower, 'after the window'));
  // The second user is forgotten: their key goes, and with it everything of theirs on the log.
  await publisher.keys.eraseUser(erasedFollowed.subject!);
}, 60_000);

afterAll(async () => {
  await publisher?.disconnect();
  await client?.close();
});

describe('the log export', () => {
  it('writes the window to NDJSON, one row per event, nothing personal without decryption', async () => {
    const out = join(work, 'window.ndjson');
    const done = await exportTo(out);
    expect(done.stderr).toMatch(/^export \|/m);
    expect([done.code, done.stdout]).toEqual([
      0,
      expect.stringMatching(/^exported 7 rows of \d+ events read to /),
    ]);
    const rows = ndjsonRows(out);
    expect(rows.map((row) => Object.keys(row))).toEqual(rows.map(() => columns.map((c) => c.name)));
    expect(rows.map(essentials)).toEqual(
      history
        .filter((e) => (e.data as { appId: string }).appId === appId)
        .map((e) => expectedRow(e, false))
        .sort(byId),
    );
    expect(rows.every((row) => typeof row.offset === 'number' && typeof row.partition === 'number')).toBe(
      true,
    );
    const file = readFileSync(out, 'utf8');
    for (const secret of [follower, erased, followerText, erasedText, 'u-export-union', 'wxp1.'])
      expect(file).not.toContain(secret);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('writes the same rows to Parquet with typed columns, read back by an independent reader', async () => {
    const ndjson = join(work, 'same.ndjson');
    const parquet = join(work, 'same.parquet');
    expect((await exportTo(ndjson)).code).toBe(0);
    const done = await exportTo(parquet, ['--format', 'parquet']);
    expect([done.code, done.stdout]).toEqual([0, expect.stringMatching(/^exported 7 rows .*\(parquet, /)]);
    const read = await parquetRows(parquet);
    expect(read.rows).toEqual(ndjsonRows(ndjson));
    expect(read.schema.map((c) => c.name)).toEqual(columns.map((c) => c.name));
    const typeOf = (name: string) => read.schema.find((c) => c.name === name);
    expect(typeOf('offset')).toMatchObject({ type: 'INT64' });
    expect(typeOf('partition')).toMatchObject({ type: 'INT32' });
    expect(typeOf('time')).toMatchObject({ type: 'INT64', logical: 'TIMESTAMP' });
    expect(typeOf('latitude')).toMatchObject({ type: 'DOUBLE' });
    expect(typeOf('subscribed')).toMatchObject({ type: 'BOOLEAN' });
    expect(typeOf('appId')).toMatchObject({ type: 'BYTE_ARRAY', logical: 'STRING' });
    expect(read.codecs).toEqual(['ZSTD']);
    // The file is compressed: what it holds is looked for in what a reader gets out of it.
    const readBack = JSON.stringify(read);
    for (const secret of [follower, erased, followerText, erasedText, 'u-export-union', 'wxp1.'])
      expect(readBack).not.toContain(secret);
  });

  it('with --decrypt, gives personal fields in clear but never re-identifies an erased user', async () => {
    const ndjson = join(work, 'decrypted.ndjson');
    const parquet = join(work, 'decrypted.parquet');
    const done = await exportTo(ndjson, ['--decrypt'], decryption);
    expect([done.code, done.stdout]).toEqual([
      0,
      expect.stringContaining('3 rows of erased users (pseudonym only)'),
    ]);
    const rows = ndjsonRows(ndjson);
    expect(rows.map(essentials)).toEqual(
      history
        .filter((e) => (e.data as { appId: string }).appId === appId)
        .map((e) => expectedRow(e, true))
        .sort(byId),
    );
    expect(rows.find((row) => row.content === followerText)).toMatchObject({ openId: follower });
    const file = readFileSync(ndjson, 'utf8');
    for (const secret of [erased, erasedText, 'wxp1.']) expect(file).not.toContain(secret);
    expect((await exportTo(parquet, ['--decrypt', '--format', 'parquet'], decryption)).code).toBe(0);
    const read = await parquetRows(parquet);
    expect(read.rows).toEqual(rows);
    const readBack = JSON.stringify(read);
    for (const secret of [erased, erasedText, 'wxp1.']) expect(readBack).not.toContain(secret);
  });

  it('exports only the asked types, and writes a valid file for an empty window', async () => {
    const out = join(work, 'follows.ndjson');
    const done = await exportTo(out, ['--type', 'wechat.user.subscribed,wechat.profile.fetched']);
    expect(done.code).toBe(0);
    expect(ndjsonRows(out).map((row) => row.type)).toEqual(
      history
        .filter((e) => ['wechat.user.subscribed', 'wechat.profile.fetched'].includes(e.type))
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((e) => e.type),
    );
    const piped = await exportTo('-', ['--type', 'wechat.menu.clicked']);
    expect(piped.code).toBe(0);
    expect(
      piped.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).menuKey),
    ).toEqual(['MENU_PRICES']);
    expect(piped.stderr).toMatch(/^exported 1 rows of \d+ events read to standard output/m);
    const empty = join(work, 'empty.parquet');
    const none = await run(program, [
      ...['--app', 'wx-export-nobody', '--since', iso(since), '--until', iso(until), '--out', empty],
    ]);
    expect([none.code, none.stdout]).toEqual([0, expect.stringMatching(/^exported 0 rows/)]);
    const read = await parquetRows(empty);
    expect([read.rows, read.schema.length]).toEqual([[], columns.length]);
  });

  it('refuses bad arguments and an existing file with exit code 2 and one clear line', async () => {
    const existing = join(work, 'existing.ndjson');
    writeFileSync(existing, 'keep me\n');
    const refused = await exportTo(existing);
    expect([refused.code, refused.stderr]).toEqual([
      2,
      `export: --out ${existing} exists; pass --force to replace it\n`,
    ]);
    expect(readFileSync(existing, 'utf8')).toBe('keep me\n');
    // A killed export's partial file, readable by others: --force does not write the export into it.
    writeFileSync(`${existing}.partial`, 'left by a killed export\n', { mode: 0o644 });
    chmodSync(`${existing}.partial`, 0o644);
    const replaced = await exportTo(existing, ['--force']);
    expect(replaced.code).toBe(0);
    expect(readFileSync(existing, 'utf8')).toContain(appId);
    expect(statSync(existing).mode & 0o777).toBe(0o600);
    const badTime = await run(program, [
      '--app',
      appId,
      '--since',
      'last week',
      '--until',
      iso(until),
      '--out',
      'x.ndjson',
    ]);
    expect([badTime.code, badTime.stderr]).toEqual([
      2,
      'export: --since must be an ISO 8601 time with a zone or a day (2026-11-01T08:00:00Z, 2026-11-01), got "last week"\n',
    ]);
    const noKey = await exportTo(join(work, 'no-key.ndjson'), ['--decrypt'], {
      MONGO_URL: decryption.MONGO_URL,
    });
    expect([noKey.code, noKey.stderr]).toEqual([
      2,
      'export: invalid configuration:\n  PRIVACY_KEY is required\n',
    ]);
  });

  it('writes Parquet a row group at a time', async () => {
    const path = join(work, 'groups.parquet');
    const writer = new ParquetWriter(createWriteStream(path), columns, 1_000);
    const rows = Array.from({ length: 2_500 }, (_, i) =>
      rowFrom({
        topic: Topics.events,
        partition: i % 12,
        offset: 2 ** 40 + i,
        id: `evt-${String(i).padStart(5, '0')}`,
        latitude: i / 7,
        subscribed: i % 2 === 0,
        time: Date.UTC(2026, 10, 1) + i,
      }),
    );
    for (let i = 0; i < rows.length; i += 300) await writer.write(rows.slice(i, i + 300));
    const { bytes } = await writer.close();
    expect(bytes).toBe(statSync(path).size);
    const read = await parquetRows(path);
    expect(read.rowGroups).toBe(3);
    expect(read.rows).toHaveLength(2_500);
    expect(read.rows[2_499]).toMatchObject({
      offset: 2 ** 40 + 2_499,
      partition: 2_499 % 12,
      latitude: 2_499 / 7,
      subscribed: false,
      time: new Date(Date.UTC(2026, 10, 1) + 2_499).toISOString(),
      openId: null,
    });
  });
});
