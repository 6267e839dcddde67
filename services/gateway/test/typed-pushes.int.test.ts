import { isDeepStrictEqual } from 'node:util';
import { Topics, eventCatalogue, schemaProblems, sealedPropertiesOf } from '@wxp/contracts';
import type { Account } from '@wxp/accounts';
import { buildPushOfBody } from '@wxp/wechat-push';
import { testPseudonymOf, closeSharedKeysDb, sharedKeysDb, testOpener } from '../../../test/support/privacy';
import { eventually } from '../../../test/support/infrastructure';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import { testAccount } from '../../../test/support/wechat-push';
import { documentedPushBody, documentedPushes } from '../../../test/support/documented-pushes';

// The documented examples carry WeChat's sample ToUserName, so these accounts check none.
const accounts = [
  testAccount({ encryptMode: 'plain', format: 'xml', originalId: undefined }),
  testAccount({ encryptMode: 'compat', format: 'xml', originalId: undefined }),
  testAccount({ encryptMode: 'safe', format: 'json', originalId: undefined }),
  testAccount({ encryptMode: 'plain', format: 'json', originalId: undefined }),
];

let gateway: RunningGateway;
let reader: TopicReader;

beforeAll(async () => {
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
  gateway = await startGateway(accounts);
});

afterAll(async () => {
  await gateway?.close();
  await reader?.stop();
  await closeSharedKeysDb();
});

const tagOf = (body: string, name: string) =>
  new RegExp(`<${name}><!\\[CDATA\\[([^\\]]*)\\]\\]></${name}>`).exec(body)?.[1] ?? '';

describe.each(accounts.map((a) => [`${a.encryptMode} mode, ${a.format}`, a] as const))(
  "WeChat's documented pushes through the gateway (%s)",
  (_mode, account: Account) => {
    it.each(documentedPushes.map((p) => [p.fixture, p] as const))(
      '%s lands as its typed event, sealed on the topic and opening to its typed fields',
      async (_fixture, documented) => {
        const format = account.format ?? 'xml';
        const body = documentedPushBody(documented.fixture, format);
        const xml = documentedPushBody(documented.fixture, 'xml');
        const openId = tagOf(xml, 'FromUserName');
        const push = buildPushOfBody(account, body, {
          toUserName: tagOf(xml, 'ToUserName'),
          fromUserName: openId,
        });
        expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });

        const pseudonym = testPseudonymOf(account.appId, openId);
        const found = await eventually(async () => {
          const match = reader
            .of(account.appId)
            .find(
              (e) =>
                e.event.subject === pseudonym &&
                e.event.type === documented.type &&
                Object.entries(documented.data).every(([name, value]) =>
                  isDeepStrictEqual(e.event.data[name], value),
                ),
            );
          if (!match) throw new Error(`no ${documented.type} of ${documented.fixture} yet`);
          return match;
        }, 15_000);
        expect(found.erased).toBe(false);
        expect(found.event.data).toMatchObject({ ...documented.data, openId });
        expect(schemaProblems(documented.type, found.stored.data)).toEqual([]);
        // What is personal is on the topic only sealed.
        const asStored = JSON.stringify(found.stored);
        expect(asStored).not.toContain(JSON.stringify(openId));
        const definition = eventCatalogue.get(documented.type)!;
        for (const name of sealedPropertiesOf(definition.schema)) {
          const value = documented.data[name];
          if (value === undefined) continue;
          expect(found.stored.data[name]).toMatch(/^wxp1\./);
          if (typeof value === 'string' && value.length > 3) expect(asStored).not.toContain(value);
        }
      },
    );
  },
);

it('no documented push was counted as untyped', async () => {
  const metric = await gateway.metrics.getSingleMetricAsString('wxp_gateway_untyped_pushes_total');
  expect(metric).not.toMatch(/wxp_gateway_untyped_pushes_total\{/);
});
