import { Topics } from '@wxp/contracts';
import fc from 'fast-check';
import { eventually } from '../../../test/support/infrastructure';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { closeSharedKeysDb, sharedKeysDb, testOpener } from '../../../test/support/privacy';
import { eventFields, signedPush, testAccount, type SignedPush } from '../../../test/support/wechat-push';
import { documentedPushBody, documentedPushes } from '../../../test/support/documented-pushes';
import { buildPushOfBody } from '@wxp/wechat-push';

// Thousands of random and mutated bodies: the gateway must answer each with 200 or a 4xx (never a
// 5xx, never a crash), and only pushes it answered 200 may reach the topic.
const plainXml = testAccount({ encryptMode: 'plain', format: 'xml' });
const safeXml = testAccount({ encryptMode: 'safe', format: 'xml' });
const plainJson = testAccount({ encryptMode: 'plain', format: 'json' });
const accounts = [plainXml, safeXml, plainJson];

let gateway: RunningGateway;
let reader: TopicReader;
const statuses = new Map<number, number>();

beforeAll(async () => {
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
  gateway = await startGateway(accounts);
});

afterAll(async () => {
  await gateway?.close();
  await reader?.stop();
  await closeSharedKeysDb();
});

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ maxLength: 40, unit: 'binary' }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  }),
  fc.record({
    kind: fc.constant('markup' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '<',
      '>',
      '</xml>',
      '<xml>',
      ']]>',
      '<![CDATA[',
      '&',
      '&amp;',
      '<!DOCTYPE x>',
      '"',
      '{',
      '}',
      '[',
      ']',
      ',',
      '<item>',
      '</item>',
      '0e999999',
      '9'.repeat(40),
    ),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(body: string, mutations: Mutation[]): string {
  let out = body;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'insert' || m.kind === 'markup') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else if (m.kind === 'truncate') out = out.slice(0, at);
    else out = out.slice(0, at) + m.char + out.slice(at + 1);
  }
  return out;
}

async function send(appId: string, push: SignedPush): Promise<void> {
  const reply = await gateway.post(appId, push);
  statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
  expect([200, 400, 401, 404, 413]).toContain(reply.status);
}

describe('gateway fuzzing', () => {
  it.each(accounts.map((a) => [`${a.encryptMode} ${a.format}`, a] as const))(
    'survives mutated pushes for a %s account',
    async (_what, account) => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('subscribe', 'SCAN', 'CLICK', 'VIEW', 'LOCATION', 'unsubscribe'),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          async (event, mutations) => {
            const push = signedPush(account, eventFields(account, 'oFuzz', event, { EventKey: 'qrscene_1' }));
            await send(account.appId, { query: push.query, body: mutate(push.body, mutations) });
          },
        ),
        { numRuns: 800 },
      );
    },
    120_000,
  );

  it.each([plainXml, plainJson].map((a) => [a.format, a] as const))(
    "survives mutations of WeChat's documented pushes, in %s: every typed reading refuses or falls back, never fails",
    async (_format, account) => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...documentedPushes),
          fc.array(mutation, { minLength: 0, maxLength: 4 }),
          async (documented, mutations) => {
            const body = mutate(documentedPushBody(documented.fixture, account.format ?? 'xml'), mutations);
            const push = buildPushOfBody(account, body, { toUserName: 'gh_fuzz', fromUserName: 'oFuzz' });
            await send(account.appId, push);
          },
        ),
        // Fewer than the other properties: each accepted push is an event every later test's
        // from-the-beginning consumer reads again.
        { numRuns: 200 },
      );
    },
    120_000,
  );

  it('survives random bodies and random queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...accounts),
        fc.oneof(fc.string({ maxLength: 3000 }), fc.string({ maxLength: 500, unit: 'binary' }), fc.json()),
        fc.string({ maxLength: 200 }),
        async (account, body, query) => {
          await send(account.appId, { query: encodeURI(query), body });
          await send(account.appId, { query: signedPush(account, {}).query, body });
        },
      ),
      { numRuns: 600 },
    );
  }, 120_000);

  it('puts on the topic only what it acknowledged, and stays healthy', async () => {
    // Self-contained: an account of its own, pushes of its own, some intact and some mutated, so
    // the check holds whatever ran before it and cannot pass on an empty run.
    const own = testAccount({ encryptMode: 'plain', format: 'xml' });
    const ownGateway = await startGateway([own]);
    const answered = new Map<number, number>();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('subscribe', 'SCAN', 'CLICK', 'unsubscribe'),
          fc.nat(),
          fc.array(mutation, { minLength: 0, maxLength: 2 }),
          async (event, user, mutations) => {
            const push = signedPush(
              own,
              eventFields(own, `oFuzz${user % 50}`, event, { EventKey: 'qrscene_1' }),
            );
            const reply = await ownGateway.post(own.appId, {
              query: push.query,
              body: mutate(push.body, mutations),
            });
            answered.set(reply.status, (answered.get(reply.status) ?? 0) + 1);
            expect([200, 400, 401, 404, 413]).toContain(reply.status);
          },
        ),
        { numRuns: 300 },
      );
      const counts = await ownGateway.metrics.getSingleMetric('wxp_gateway_pushes_total')?.get();
      const count = (outcome: string) => counts?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      expect(answered.get(200) ?? 0).toBeGreaterThan(0);
      expect([...answered.keys()].some((status) => status >= 400)).toBe(true);
      expect(count('published')).toBeGreaterThan(0);
      expect(count('published') + count('duplicate')).toBe(answered.get(200) ?? 0);
      await eventually(async () => expect(reader.of(own.appId)).toHaveLength(count('published')), 15_000);
      const stored = reader.of(own.appId);
      expect(new Set(stored.map((e) => e.event.id)).size).toBe(stored.length);
      const health = await fetch(`${ownGateway.url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await ownGateway.close();
    }
    expect(statuses.get(500) ?? 0).toBe(0);
    process.stdout.write(`fuzz: own account statuses ${JSON.stringify(Object.fromEntries(answered))}\n`);
  });
});
