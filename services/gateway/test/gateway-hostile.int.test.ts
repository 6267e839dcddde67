import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Account } from '@wxp/accounts';
import { Topics } from '@wxp/contracts';
import { aesKeyOf, encryptMessage, pushJson, pushXml, wechatSignature } from '@wxp/wechat-push';
import pino from 'pino';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import { rawExchange } from '../../../test/support/raw-http';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { closeSharedKeysDb, sharedKeysDb, testOpener, testPseudonymOf } from '../../../test/support/privacy';
import {
  eventFields,
  signedPush,
  testAccount,
  type PushFieldValues,
  type SignedPush,
} from '../../../test/support/wechat-push';
import { gatewayServerDefaults } from '../src/config';
import { PUSH_LIMITS } from '../src/push-parser';

// Hostile requests, each of which the gateway once answered badly: a 5xx, an answer or a log line
// quoting what was sent or decrypted, a replay accepted, a connection held for minutes. Every text an
// attacker controls or that is decrypted carries MARK, and no log line may ever contain it.
const MARK = 'ATTACKER';

const plainXml = testAccount({ encryptMode: 'plain', format: 'xml' });
const plainJson = testAccount({ encryptMode: 'plain', format: 'json' });
const compatXml = testAccount({ encryptMode: 'compat', format: 'xml' });
const compatJson = testAccount({ encryptMode: 'compat', format: 'json' });
const safeXml = testAccount({ encryptMode: 'safe', format: 'xml' });
const safeJson = testAccount({ encryptMode: 'safe', format: 'json' });
const everyMode = [plainXml, compatXml, safeXml, plainJson, compatJson, safeJson];

const logLines: string[] = [];
let gateway: RunningGateway;
let reader: TopicReader;
let port: number;

beforeAll(async () => {
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  gateway = await startGateway(everyMode, { logger });
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway?.close();
  await reader?.stop();
  await closeSharedKeysDb();
});

const describeMode = (a: Account) => `${a.encryptMode} ${a.format}`;

/** Runs `send` and returns its reply with the log lines written meanwhile. */
async function withLog<T>(send: () => Promise<T>): Promise<{ reply: T; lines: string[] }> {
  const from = logLines.length;
  const reply = await send();
  return { reply, lines: logLines.slice(from) };
}

function errorOf(reply: { text: string }): { error: string; message: string } {
  return JSON.parse(reply.text) as { error: string; message: string };
}

async function metric(
  name: string,
  labels: Record<string, string>,
  of: RunningGateway = gateway,
): Promise<number> {
  const found = await of.metrics.getSingleMetric(name)?.get();
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

const landed = (account: Account, openId: string) =>
  reader.landed(account.appId, testPseudonymOf(account.appId, openId));

function withParam(push: SignedPush, name: string, value: string): SignedPush {
  const query = new URLSearchParams(push.query);
  query.set(name, value);
  return { ...push, query: query.toString() };
}

/** A signed query for `body`, taken as it is (plain mode). */
function signedBody(account: Account, body: string): SignedPush {
  return { query: signedPush(account, {}).query, body };
}

function serialise(account: Account, fields: PushFieldValues): string {
  return account.format === 'json' ? pushJson(fields) : pushXml(fields);
}

/**
 * `inner` encrypted and signed as WeChat would, whatever it holds; `outer` adds to the envelope, and
 * `tamper` changes the ciphertext before it is signed, as anyone holding the token can.
 */
function encryptedBody(
  account: Account,
  inner: string,
  outer: PushFieldValues = {},
  tamper: (ciphertext: Buffer) => void = () => undefined,
): SignedPush {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(6).readUIntBE(0, 6));
  const ciphertext = Buffer.from(
    encryptMessage(inner, aesKeyOf(account.encodingAESKey), account.appId),
    'base64',
  );
  tamper(ciphertext);
  const encrypted = ciphertext.toString('base64');
  const query = new URLSearchParams({
    signature: wechatSignature(account.token, timestamp, nonce),
    timestamp,
    nonce,
    encrypt_type: 'aes',
    msg_signature: wechatSignature(account.token, timestamp, nonce, encrypted),
  });
  const envelope = { ToUserName: account.originalId ?? '', ...outer, Encrypt: encrypted };
  return { query: query.toString(), body: serialise(account, envelope) };
}

/** The body a push of these fields has in the account's mode: encrypted unless plain. */
function pushOf(account: Account, body: string): SignedPush {
  return account.encryptMode === 'plain' ? signedBody(account, body) : encryptedBody(account, body);
}

async function postRaw(account: Account, push: SignedPush, headers: Record<string, string>, body: Buffer) {
  const response = await fetch(`${gateway.url}/wechat/${account.appId}?${push.query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', ...headers },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe('signatures that are not hex (point 2)', () => {
  const nonAscii = `é${'0'.repeat(39)}`;
  const follow = (a: Account) => signedPush(a, eventFields(a, `o${MARK}`, 'subscribe'));

  const cases: [string, Account, string][] = [
    ['signature', plainXml, 'bad_signature'],
    ['signature', safeXml, 'bad_signature'],
    ['msg_signature', safeXml, 'bad_msg_signature'],
    ['msg_signature', compatJson, 'bad_msg_signature'],
  ];

  it.each(
    cases.map(([param, account, outcome]) => [param, describeMode(account), account, outcome] as const),
  )('a non-ASCII %s for a %s account is 401', async (param, _what, account, outcome) => {
    const { reply, lines } = await withLog(() =>
      gateway.post(account.appId, withParam(follow(account), param, nonAscii)),
    );
    expect(reply.status).toBe(401);
    expect(errorOf(reply).error).toBe(outcome);
    expect(lines.join('')).not.toMatch(/unexpected error|"stack"/);
  });

  it('a non-ASCII signature on the URL check is 401', async () => {
    const query = withParam(follow(plainXml), 'signature', nonAscii).query;
    const response = await fetch(`${gateway.url}/wechat/${plainXml.appId}?${query}&echostr=e`);
    expect(response.status).toBe(401);
  });
});

describe('a tampered ciphertext is no decryption oracle (point 3)', () => {
  /** Flips the first ciphertext block so that the length field reads 0 and the whole message becomes "the appId". */
  function zeroedLength(account: Account, openId: string): SignedPush {
    const inner = serialise(account, eventFields(account, openId, 'subscribe'));
    const outer = account.encryptMode === 'compat' ? eventFields(account, 'oOuterCopy', 'subscribe') : {};
    return encryptedBody(account, inner, outer, (ciphertext) => {
      // CBC: the first ciphertext block is XORed into the second plaintext block, which starts
      // with the message length; XOR with the known length makes it read 0.
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(inner));
      for (let i = 0; i < 4; i++) ciphertext[i] = (ciphertext[i] ?? 0) ^ (length[i] ?? 0);
    });
  }

  it.each([safeXml, safeJson, compatXml].map((a) => [describeMode(a), a] as const))(
    '%s: one generic decrypt_failed, nothing decrypted in the answer or the log',
    async (_what, account) => {
      const before = await metric('wxp_gateway_decrypt_failures_total', { failure: 'plaintext' });
      const openId = `o${MARK}secret`;
      const { reply, lines } = await withLog(() =>
        gateway.post(account.appId, zeroedLength(account, openId)),
      );
      expect(reply.status).toBe(400);
      expect(errorOf(reply)).toEqual({
        error: 'decrypt_failed',
        message: 'the message could not be decrypted',
      });
      expect(reply.text).not.toMatch(/secret|ToUserName|xml|subscribe/);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toMatch(/secret|ToUserName|<xml|subscribe/);
      expect(await metric('wxp_gateway_decrypt_failures_total', { failure: 'plaintext' })).toBe(before + 1);
    },
  );
});

describe('a signed query is good for one body (point 4)', () => {
  it.each([plainXml, plainJson].map((a) => [describeMode(a), a] as const))(
    '%s: the same body again is a retry, another body is refused as replayed',
    async (_what, account) => {
      const openId = uniqueName('oReplay');
      const push = signedPush(account, eventFields(account, openId, 'CLICK', { EventKey: 'k' }));
      expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });
      expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });

      const forgedFields = eventFields(account, `${openId}-${MARK}`, 'CLICK', { EventKey: 'forged' });
      const forged = { query: push.query, body: serialise(account, forgedFields) };
      const reply = await gateway.post(account.appId, forged);
      expect(reply.status).toBe(401);
      expect(errorOf(reply).error).toBe('replayed');

      // WeChat's third try still goes through, and is collapsed with the first.
      expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });
      expect((await landed(account, openId)).map((e) => e.event.data.key)).toEqual(['k']);
      expect(reader.of(account.appId).filter((e) => e.event.data.key === 'forged')).toEqual([]);
    },
  );

  it("plain mode: a URL check's signed query never carries a push afterwards", async () => {
    const push = signedPush(plainXml, eventFields(plainXml, uniqueName('oCheck'), 'unsubscribe'));
    const check = await fetch(`${gateway.url}/wechat/${plainXml.appId}?${push.query}&echostr=e42`);
    expect(await check.text()).toBe('e42');
    // WeChat asking again is fine; a push under the same query is someone else's.
    expect(
      await (await fetch(`${gateway.url}/wechat/${plainXml.appId}?${push.query}&echostr=e42`)).text(),
    ).toBe('e42');
    const reply = await gateway.post(plainXml.appId, push);
    expect(reply.status).toBe(401);
    expect(errorOf(reply).error).toBe('replayed');
  });

  it('a copy of a push sent while its timestamp is still accepted is collapsed with it, minutes later', async () => {
    let clock = Date.now();
    const clocked = await startGateway([safeXml], { now: () => clock });
    try {
      const openId = uniqueName('oLateCopy');
      const push = signedPush(safeXml, {
        ...eventFields(safeXml, openId, 'subscribe'),
        CreateTime: Math.floor(clock / 1000),
      });
      expect(await clocked.post(safeXml.appId, push)).toEqual({ status: 200, text: 'success' });
      clock += 250_000;
      expect(await clocked.post(safeXml.appId, push)).toEqual({ status: 200, text: 'success' });
      expect(await metric('wxp_gateway_pushes_total', { outcome: 'duplicate' }, clocked)).toBe(1);
      expect(await landed(safeXml, openId)).toHaveLength(1);
    } finally {
      await clocked.close();
    }
  });

  it('the URL check has the same clock window as a push', async () => {
    const stale = signedPush(plainXml, {}, Math.floor(Date.now() / 1000) - 301).query;
    const response = await fetch(`${gateway.url}/wechat/${plainXml.appId}?${stale}&echostr=${MARK}`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('stale');
    const fresh = signedPush(plainXml, {}).query;
    const ok = await fetch(`${gateway.url}/wechat/${plainXml.appId}?${fresh}&echostr=e123`);
    expect(await ok.text()).toBe('e123');
  });
});

describe('deep or large pushes are refused before anything else (point 5)', () => {
  const deep: [string, string][] = [
    ['3,000 nested arrays', `${'['.repeat(3000)}${']'.repeat(3000)}`],
    ['9,000 nested arrays', `${'['.repeat(9000)}${']'.repeat(9000)}`],
    ['5,000 nested objects', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
  ];

  it.each(deep)('a signed, encrypted JSON push with %s is 400', async (_what, value) => {
    const inner = pushJson(eventFields(safeJson, `o${MARK}`, 'subscribe')).replace(/}$/, `,"Deep":${value}}`);
    const { reply, lines } = await withLog(() =>
      gateway.post(safeJson.appId, encryptedBody(safeJson, inner)),
    );
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toEqual({ error: 'malformed', message: 'nested deeper than 16 levels' });
    expect(lines).toHaveLength(1);
  });

  it.each(deep)('an outer body with %s is 400, plain or encrypted', async (_what, value) => {
    const plain = pushJson(eventFields(plainJson, `o${MARK}`, 'subscribe')).replace(
      /}$/,
      `,"Deep":${value}}`,
    );
    expect((await gateway.post(plainJson.appId, signedBody(plainJson, plain))).status).toBe(400);
    const envelope = encryptedBody(safeJson, pushJson(eventFields(safeJson, 'oOuter', 'subscribe')));
    const outer = { ...envelope, body: envelope.body.replace(/}$/, `,"Deep":${value}}`) };
    const reply = await gateway.post(safeJson.appId, outer);
    expect(reply.status).toBe(400);
    expect(errorOf(reply).message).toBe('nested deeper than 16 levels');
  });

  it('an XML push nested deeper than the cap is 400 too', async () => {
    const levels = PUSH_LIMITS.maxDepth;
    const inner = pushXml(eventFields(safeXml, `o${MARK}`, 'subscribe')).replace(
      '</xml>',
      `${'<Deep>'.repeat(levels)}x${'</Deep>'.repeat(levels)}</xml>`,
    );
    const reply = await gateway.post(safeXml.appId, encryptedBody(safeXml, inner));
    expect(reply.status).toBe(400);
    expect(errorOf(reply).message).toBe('nested deeper than 16 levels');
  });

  it.each([plainJson, safeXml].map((a) => [describeMode(a), a] as const))(
    '%s: a push with more fields than the cap is 400',
    async (_what, account) => {
      const many = Array.from({ length: PUSH_LIMITS.maxNodes }, (_, i) => [`F${i}`, 'v'] as const);
      const fields = { ...eventFields(account, `o${MARK}`, 'subscribe'), ...Object.fromEntries(many) };
      const reply = await gateway.post(account.appId, pushOf(account, serialise(account, fields)));
      expect(reply.status).toBe(400);
      expect(errorOf(reply).message).toBe(`more than ${PUSH_LIMITS.maxNodes - 1} fields`);
    },
  );
});

describe('compressed bodies are refused before they are read (point 6)', () => {
  const body = () => pushXml(eventFields(plainXml, `o${MARK}`, 'subscribe'));

  it.each([
    ['truncated gzip', 'gzip', () => gzipSync(body()).subarray(0, 20)],
    ['garbage sent as br', 'br', () => randomBytes(200)],
    ['garbage sent as deflate', 'deflate', () => randomBytes(200)],
    ['a well-formed gzip of a good push', 'gzip', () => gzipSync(body())],
    ['two encodings', 'identity, gzip', () => gzipSync(body())],
  ])('%s is 415', async (_what, encoding, make) => {
    const push = signedBody(plainXml, '');
    const { reply, lines } = await withLog(() =>
      postRaw(plainXml, push, { 'content-encoding': encoding }, make()),
    );
    expect(reply.status).toBe(415);
    expect(errorOf(reply).error).toBe('unsupported_encoding');
    expect(lines).toHaveLength(1);
  });

  it('identity is what WeChat may say, and is accepted', async () => {
    const openId = uniqueName('oIdentity');
    const push = signedPush(plainXml, eventFields(plainXml, openId, 'subscribe'));
    const reply = await postRaw(plainXml, push, { 'content-encoding': 'identity' }, Buffer.from(push.body));
    expect(reply).toEqual({ status: 200, text: 'success' });
  });
});

describe('slow clients do not hold a connection (point 7)', () => {
  const deadlineMs = 20_000;
  const head = (path: string, extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: 60000\r\n${extra}\r\n`;

  it('the gateway answers well within the 5 s WeChat waits', () => {
    expect(gatewayServerDefaults.headersTimeoutMs).toBeLessThan(5000);
    expect(gatewayServerDefaults.requestTimeoutMs).toBeLessThan(5000);
  });

  it('a signed push whose body comes a byte at a time is cut off', async () => {
    const push = signedPush(plainXml, eventFields(plainXml, `o${MARK}`, 'subscribe'));
    const before = await metric('wxp_gateway_pushes_total', { outcome: 'incomplete_body' });
    const result = await rawExchange(port, head(`/wechat/${plainXml.appId}?${push.query}`), {
      dribbleEveryMs: 200,
      deadlineMs,
    });
    expect(result.closed).toBe(true);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/);
    await eventually(async () =>
      expect(await metric('wxp_gateway_pushes_total', { outcome: 'incomplete_body' })).toBe(before + 1),
    );
  });

  it('headers that come a byte at a time are cut off', async () => {
    const result = await rawExchange(port, `POST /wechat/${plainXml.appId} HTTP/1.1\r\nX-Slow: `, {
      dribbleEveryMs: 200,
      deadlineMs,
    });
    expect(result).toEqual({ closed: true, answer: expect.stringMatching(/^HTTP\/1\.1 408/) });
  });

  it.each([
    ['an unknown appId', () => `/wechat/wx${MARK}?${signedPush(plainXml, {}).query}`, '', 404],
    [
      'a wrong signature',
      () => `/wechat/${plainXml.appId}?signature=${'0'.repeat(40)}&timestamp=1&nonce=1`,
      '',
      401,
    ],
    ['a stale timestamp', () => `/wechat/${plainXml.appId}?${signedPush(plainXml, {}, 1000).query}`, '', 401],
    [
      'a compressed body',
      () => `/wechat/${plainXml.appId}?${signedPush(plainXml, {}).query}`,
      'Content-Encoding: gzip\r\n',
      415,
    ],
  ])(
    '%s is answered before the body is read, and the connection closed',
    async (_what, path, extra, status) => {
      const result = await rawExchange(port, head(path(), extra), { deadlineMs });
      expect(result.closed).toBe(true);
      expect(result.answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(result.answer).toMatch(/\r\nConnection: close\r\n/i);
    },
  );
});

describe("a user's text that quotes markup reaches the topic (point 8)", () => {
  const question = 'how do I fix <!DOCTYPE html> in my page? <!ENTITY x "y">';

  it.each(everyMode.map((a) => [describeMode(a), a] as const))('%s', async (_what, account) => {
    const openId = uniqueName('oQuestion');
    const fields: PushFieldValues = {
      ToUserName: account.originalId ?? '',
      FromUserName: openId,
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'text',
      Content: question,
      MsgId: '1234567890123456789',
    };
    const reply = await gateway.post(account.appId, signedPush(account, fields));
    expect(reply).toEqual({ status: 200, text: 'success' });
    const [found] = await landed(account, openId);
    expect((found?.event.data.fields as Record<string, unknown>).Content).toBe(question);
  });

  it('a real DTD is still refused', async () => {
    const body = `<!DOCTYPE xml [<!ENTITY e "${MARK}">]>${pushXml(eventFields(plainXml, 'oDtd', 'subscribe'))}`;
    const reply = await gateway.post(plainXml.appId, signedBody(plainXml, body));
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toEqual({ error: 'malformed', message: 'DTDs are not accepted' });
  });
});

describe('XML and JSON pushes are held to the same names (point 9)', () => {
  it.each(
    ['__proto__', 'constructor', 'prototype'].flatMap((name) =>
      [plainJson, plainXml, safeJson].map((a) => [name, describeMode(a), a] as const),
    ),
  )('a field named %s is refused (%s)', async (name, _what, account) => {
    const inner =
      account.format === 'json'
        ? pushJson(eventFields(account, 'oProto', 'subscribe')).replace(
            /}$/,
            `,"${name}":{"polluted":"${MARK}"}}`,
          )
        : pushXml(eventFields(account, 'oProto', 'subscribe')).replace(
            '</xml>',
            `<${name}>${MARK}</${name}></xml>`,
          );
    const reply = await gateway.post(account.appId, pushOf(account, inner));
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toEqual({
      error: 'malformed',
      message: `a field is named ${name}, which is reserved`,
    });
  });

  it.each([plainXml, safeXml].map((a) => [describeMode(a), a] as const))(
    '%s: two FromUserName elements are named as such',
    async (_what, account) => {
      const inner = pushXml(eventFields(account, 'oTwice', 'subscribe')).replace(
        '</xml>',
        `<FromUserName><![CDATA[o${MARK}]]></FromUserName></xml>`,
      );
      const reply = await gateway.post(account.appId, pushOf(account, inner));
      expect(reply.status).toBe(400);
      expect(errorOf(reply)).toEqual({ error: 'malformed', message: 'FromUserName appears more than once' });
    },
  );
});

describe('answers and logs quote nothing an attacker sent (point 10)', () => {
  const huge = `${MARK}${'x'.repeat(60_000)}`;

  async function refusedQuietly(send: () => Promise<{ status: number; text: string }>, status: number) {
    const { reply, lines } = await withLog(send);
    expect(reply.status).toBe(status);
    expect(reply.text.length).toBeLessThan(200);
    expect(reply.text).not.toMatch(new RegExp(`${MARK}|xxxxx`));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.length).toBeLessThan(400);
    return lines[0] ?? '';
  }

  it('a ToUserName of 60 KB for the wrong account', async () => {
    const fields = { ...eventFields(plainXml, 'oWrong', 'subscribe'), ToUserName: huge };
    await refusedQuietly(() => gateway.post(plainXml.appId, signedPush(plainXml, fields)), 400);
  });

  it('a decrypted ToUserName for the wrong account is not quoted either', async () => {
    const fields = { ...eventFields(safeXml, 'oWrong', 'subscribe'), ToUserName: `gh_${MARK}` };
    await refusedQuietly(() => gateway.post(safeXml.appId, encryptedBody(safeXml, pushXml(fields))), 400);
  });

  it('a CreateTime that is not seconds', async () => {
    const fields = { ...eventFields(plainXml, 'oTime', 'subscribe'), CreateTime: huge.slice(0, 5000) };
    await refusedQuietly(() => gateway.post(plainXml.appId, signedPush(plainXml, fields)), 400);
  });

  it.each([
    ['XML', plainXml, `<xml><${MARK}TAG>1</OTHER></xml>`],
    ['JSON', plainJson, `{"a":"${MARK}" ${MARK}}`],
  ])('a parser error in %s gives no position and no text', async (_what, account, body) => {
    const line = await refusedQuietly(() => gateway.post(account.appId, signedBody(account, body)), 400);
    expect(line).not.toMatch(/line|col|position/i);
  });

  it('an unknown appId is logged short and sanitised, and not answered back', async () => {
    const appId = `wx${MARK}<script>${'A'.repeat(3000)}`;
    const line = await refusedQuietly(() => gateway.post(appId, signedPush(plainXml, {})), 404);
    const logged = (JSON.parse(line) as { appId: string }).appId;
    expect(logged).toMatch(/^[A-Za-z0-9_?-]{1,32}…?$/);
  });
});

describe('after all of it', () => {
  it('no log line quoted attacker or decrypted text, none carried a stack, none was an error', () => {
    expect(logLines.length).toBeGreaterThan(20);
    // The broker client logs through the same logger; its lines are about the broker.
    const gatewayLines = logLines.filter((line) => !line.includes('"component":"kafkajs"'));
    for (const line of gatewayLines) {
      const entry = JSON.parse(line) as { level: number; msg: string };
      expect(entry.level).toBeLessThan(50);
      expect(line).not.toMatch(/"stack"/);
      // The one permitted excerpt: an unknown appId, cut to 32 characters of [A-Za-z0-9_-].
      if (entry.msg === 'push refused' && line.includes(`"outcome":"unknown_app"`)) continue;
      expect(line).not.toContain(MARK);
    }
  });
});
