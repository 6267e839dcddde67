import { Topics, openedSchemaProblems, schemaProblems } from '@wxp/contracts';
import type { Account } from '@wxp/accounts';
import { DATA_KEYS_COLLECTION, DataKeyStore } from '@wxp/privacy';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import {
  closeSharedKeysDb,
  sharedKeysDb,
  testOpener,
  testPrivacyKey,
  testPseudonymOf,
} from '../../../test/support/privacy';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import {
  eventFields,
  signedPush,
  testAccount,
  type PushFieldValues,
} from '../../../test/support/wechat-push';

const modes = [
  testAccount({ encryptMode: 'plain', format: 'xml' }),
  testAccount({ encryptMode: 'compat', format: 'xml' }),
  testAccount({ encryptMode: 'safe', format: 'xml' }),
  testAccount({ encryptMode: 'plain', format: 'json' }),
  testAccount({ encryptMode: 'safe', format: 'json' }),
];
const [plainXml, , safeXml] = modes as [Account, Account, Account];
const refused = testAccount({ encryptMode: 'safe' });
const other = testAccount({ encryptMode: 'safe' });

let gateway: RunningGateway;
let reader: TopicReader;

beforeAll(async () => {
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
  gateway = await startGateway([...modes, refused, other]);
});

afterAll(async () => {
  await gateway?.close();
  await reader?.stop();
  await closeSharedKeysDb();
});

const landed = (account: Account, openId: string) =>
  reader.landed(account.appId, testPseudonymOf(account.appId, openId));

const pushTypes: [
  string,
  (a: Account, openId: string) => PushFieldValues,
  string,
  Record<string, unknown>,
][] = [
  ['subscribe', (a, o) => eventFields(a, o, 'subscribe'), 'wechat.user.subscribed', {}],
  [
    'subscribe through a QR code',
    (a, o) => eventFields(a, o, 'subscribe', { EventKey: 'qrscene_123123', Ticket: 'TICKET' }),
    'wechat.user.subscribed',
    { scene: '123123', sceneId: 123123, ticket: 'TICKET' },
  ],
  [
    'SCAN by a follower',
    (a, o) => eventFields(a, o, 'SCAN', { EventKey: 'SCENE_VALUE', Ticket: 'TICKET' }),
    'wechat.qrcode.scanned',
    { scene: 'SCENE_VALUE', ticket: 'TICKET' },
  ],
  ['unsubscribe', (a, o) => eventFields(a, o, 'unsubscribe'), 'wechat.user.unsubscribed', {}],
  [
    'CLICK',
    (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'EVENTKEY' }),
    'wechat.menu.clicked',
    { key: 'EVENTKEY' },
  ],
  [
    'VIEW',
    (a, o) => eventFields(a, o, 'VIEW', { EventKey: 'www.qq.com', MenuId: 208396938 }),
    'wechat.menu.viewed',
    { url: 'www.qq.com', menuId: '208396938' },
  ],
  [
    'a text message',
    (a, o) => ({
      ...eventFields(a, o, ''),
      MsgType: 'text',
      Event: '',
      Content: '你好',
      MsgId: '6972028683187026694',
    }),
    'wechat.message.received',
    { msgType: 'text', msgId: '6972028683187026694' },
  ],
  [
    'LOCATION',
    (a, o) =>
      eventFields(a, o, 'LOCATION', {
        Latitude: '23.137466',
        Longitude: '113.352425',
        Precision: '119.385040',
      }),
    'wechat.location.reported',
    { latitude: 23.137466, longitude: 113.352425, precision: 119.38504 },
  ],
  [
    'an event without a type of its own',
    (a, o) => eventFields(a, o, 'user_get_card', { CardId: 'pFS7Fjg8kV1IdDz01r4SQwMkuCKc' }),
    'wechat.event.received',
    { event: 'user_get_card' },
  ],
];

describe('gateway over the real broker', () => {
  it.each(pushTypes)('turns %s into its canonical event', async (_what, fieldsOf, type, data) => {
    const openId = uniqueName('o');
    const fields = fieldsOf(plainXml, openId);
    if (fields.Event === '') delete fields.Event;
    const reply = await gateway.post(plainXml.appId, signedPush(plainXml, fields));
    expect(reply).toEqual({ status: 200, text: 'success' });
    const [found] = await landed(plainXml, openId);
    const pseudonym = testPseudonymOf(plainXml.appId, openId);
    expect(found?.key).toBe(pseudonym);
    expect(found?.event).toMatchObject({
      type,
      subject: pseudonym,
      source: `/wechat/${plainXml.appId}`,
      data: { ...data, openId },
    });
    expect(found?.erased).toBe(false);
    expect(schemaProblems(type, found?.stored.data)).toEqual([]);
    expect(openedSchemaProblems(type, found?.event.data)).toEqual([]);
  });

  it.each(modes.map((a) => [`${a.encryptMode} mode with ${a.format} bodies`, a] as const))(
    'accepts %s',
    async (_what, account) => {
      const openId = uniqueName('o');
      const push = signedPush(
        account,
        eventFields(account, openId, 'subscribe', { EventKey: 'qrscene_9', MsgId: '6972028683187026694' }),
      );
      expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });
      const [found] = await landed(account, openId);
      expect(found?.event.data).toMatchObject({ scene: '9', sceneId: 9, accountId: account.originalId });
      expect((found?.event.data.fields as Record<string, unknown>).MsgId).toBe('6972028683187026694');
    },
  );

  it('collapses WeChat retrying one push three times, also concurrently', async () => {
    const openId = uniqueName('o');
    const push = signedPush(safeXml, eventFields(safeXml, openId, 'CLICK', { EventKey: 'k' }));
    const replies = await Promise.all([gateway.post(safeXml.appId, push), gateway.post(safeXml.appId, push)]);
    replies.push(await gateway.post(safeXml.appId, push));
    expect(replies.map((r) => r.text)).toEqual(['success', 'success', 'success']);
    // A second push from the same user in the same second is a different event.
    const next = signedPush(safeXml, eventFields(safeXml, openId, 'CLICK', { EventKey: 'other' }));
    expect((await gateway.post(safeXml.appId, next)).text).toBe('success');
    // Same user, same partition: once the later push is visible, everything before it is too.
    await eventually(async () => {
      const keys = (await landed(safeXml, openId)).map((e) => e.event.data.key);
      expect(keys).toContain('other');
    }, 15_000);
    expect((await landed(safeXml, openId)).map((e) => e.event.data.key)).toEqual(['k', 'other']);
  });

  describe('refuses bad input with a clear answer and writes nothing', () => {
    const openId = 'oRefused';
    const valid = () => signedPush(refused, eventFields(refused, openId, 'subscribe'));
    const cases: [string, () => { appId?: string; query: string; body: string }, number, string][] = [
      ['an unknown appId', () => ({ ...valid(), appId: 'wxnobody' }), 404, 'unknown_app'],
      [
        'a wrong signature',
        () => ({
          ...valid(),
          query: valid().query.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(40)}`),
        }),
        401,
        'bad_signature',
      ],
      [
        'no signature',
        () => ({ ...valid(), query: valid().query.replace(/^signature=[0-9a-f]+&/, '') }),
        401,
        'bad_signature',
      ],
      [
        'a stale timestamp',
        () =>
          signedPush(refused, eventFields(refused, openId, 'subscribe'), Math.floor(Date.now() / 1000) - 301),
        401,
        'stale',
      ],
      [
        'a wrong msg_signature',
        () => ({
          ...valid(),
          query: valid().query.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'1'.repeat(40)}`),
        }),
        401,
        'bad_msg_signature',
      ],
      [
        'a body over 64 KiB',
        () => ({ ...valid(), body: `<xml>${'x'.repeat(65 * 1024)}</xml>` }),
        413,
        'too_large',
      ],
      ['malformed XML', () => ({ ...valid(), body: '<xml><Encrypt>' }), 400, 'malformed'],
      [
        'a DOCTYPE',
        () => ({
          ...valid(),
          body: '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
        }),
        400,
        'malformed',
      ],
      [
        'a body without Encrypt',
        () => ({ ...valid(), body: '<xml><ToUserName>gh_x</ToUserName></xml>' }),
        400,
        'not_encrypted',
      ],
      [
        'a ciphertext for another appId',
        () => {
          const foreign = signedPush(
            { ...other, token: refused.token, encodingAESKey: refused.encodingAESKey },
            eventFields(refused, openId, 'subscribe'),
          );
          return foreign;
        },
        400,
        'decrypt_failed',
      ],
      [
        'a ToUserName other than the account',
        () =>
          signedPush(refused, { ...eventFields(refused, openId, 'subscribe'), ToUserName: 'gh_someoneelse' }),
        400,
        'wrong_account',
      ],
    ];

    it.each(cases)('%s', async (_what, make, status, outcome) => {
      const { appId = refused.appId, ...push } = make();
      const reply = await gateway.post(appId, push);
      expect(reply.status).toBe(status);
      expect(JSON.parse(reply.text)).toMatchObject({ error: outcome });
      const counted = await gateway.metrics.getSingleMetric('wxp_gateway_pushes_total')?.get();
      expect(counted?.values.find((v) => v.labels.outcome === outcome)?.value).toBeGreaterThan(0);
    });

    it('and none of them reached the topic', async () => {
      const marker = uniqueName('oMarker');
      expect(
        (await gateway.post(refused.appId, signedPush(refused, eventFields(refused, marker, 'subscribe'))))
          .text,
      ).toBe('success');
      await landed(refused, marker);
      expect(reader.of(refused.appId).map((e) => e.event.subject)).toEqual([
        testPseudonymOf(refused.appId, marker),
      ]);
    });
  });
});

describe('personal data on the topic', () => {
  it('a text and a LOCATION are stored without the openId, the text or the coordinates, yet open to them', async () => {
    const openId = uniqueName('oPrivate');
    const content = `my address is ${uniqueName('street')}`;
    const coordinates = { Latitude: '23.137466', Longitude: '113.352425', Precision: '119.385040' };
    const text: PushFieldValues = {
      ...eventFields(safeXml, openId, ''),
      MsgType: 'text',
      Content: content,
      MsgId: '6972',
    };
    delete text.Event;
    for (const fields of [text, eventFields(safeXml, openId, 'LOCATION', coordinates)]) {
      expect(await gateway.post(safeXml.appId, signedPush(safeXml, fields))).toEqual({
        status: 200,
        text: 'success',
      });
    }
    const found = await eventually(async () => {
      const events = await landed(safeXml, openId);
      expect(events).toHaveLength(2);
      return events;
    }, 15_000);
    for (const read of found) {
      const asStored = JSON.stringify({ key: read.key, headers: read.headers, value: read.stored });
      for (const secret of [openId, content, ...Object.values(coordinates)]) {
        expect(asStored).not.toContain(secret);
      }
      expect(read.stored.datakeyid).toEqual(expect.any(String));
    }
    const [message, location] = found.map((e) => e.event);
    expect(message).toMatchObject({
      type: 'wechat.message.received',
      data: { openId, fields: { FromUserName: openId, Content: content } },
    });
    expect(location).toMatchObject({
      type: 'wechat.location.reported',
      data: { openId, fields: coordinates, latitude: 23.137466, longitude: 113.352425 },
    });
  });

  it('a follow gets a fresh data key, and the events after it are sealed with that key', async () => {
    const openId = uniqueName('oKeys');
    const at = Math.floor(Date.now() / 1000);
    const steps: [string, Record<string, string>][] = [
      ['subscribe', {}],
      ['CLICK', { EventKey: 'first' }],
      ['unsubscribe', {}],
      ['subscribe', {}],
      ['CLICK', { EventKey: 'second' }],
    ];
    // One second apart, so that no two pushes are the same event to the gateway.
    for (const [n, [name, extra]] of steps.entries()) {
      const fields = { ...eventFields(plainXml, openId, name, extra), CreateTime: at - steps.length + n };
      expect((await gateway.post(plainXml.appId, signedPush(plainXml, fields))).text).toBe('success');
    }
    const events = await eventually(async () => {
      const found = await landed(plainXml, openId);
      expect(found).toHaveLength(steps.length);
      return found;
    }, 15_000);
    // The account answers through the customer-service API, and its events say so.
    expect(events.map((e) => e.stored.replychannel)).toEqual(steps.map(() => 'custom'));
    const keyIds = events.map((e) => e.stored.datakeyid as string);
    expect(keyIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    const [firstFollow, firstClick, unfollow, secondFollow, secondClick] = keyIds;
    expect(secondFollow).not.toBe(firstFollow);
    expect([firstClick, unfollow]).toEqual([firstFollow, firstFollow]);
    expect(secondClick).toBe(secondFollow);
    const pseudonym = testPseudonymOf(plainXml.appId, openId);
    const stored = await (
      await sharedKeysDb()
    )
      .collection(DATA_KEYS_COLLECTION)
      .find({ user: pseudonym })
      .toArray();
    expect(stored.map((k) => k._id).sort()).toEqual([firstFollow, secondFollow].sort());
    expect(JSON.stringify(stored)).not.toContain(openId);
  });

  it('writes a push that comes after the unfollow erased its keys as erased, until the user follows again', async () => {
    const openId = uniqueName('oLate');
    const at = Math.floor(Date.now() / 1000);
    const push = async (
      name: string,
      createTime: number,
      extra: Record<string, string> = {},
      through: RunningGateway = gateway,
    ) =>
      expect(
        (
          await through.post(
            plainXml.appId,
            signedPush(plainXml, { ...eventFields(plainXml, openId, name, extra), CreateTime: createTime }),
          )
        ).text,
      ).toBe('success');
    await push('subscribe', at - 4);
    await push('unsubscribe', at - 3);
    const [, unfollow] = await eventually(async () => {
      const found = await landed(plainXml, openId);
      expect(found).toHaveLength(2);
      return found;
    }, 15_000);
    // What the erasure consumer does on reading the unfollow.
    const pseudonym = testPseudonymOf(plainXml.appId, openId);
    const keys = new DataKeyStore(await sharedKeysDb(), testPrivacyKey);
    expect(await keys.eraseUser(pseudonym, { upTo: unfollow!.stored.datakeyid as string })).toBe(1);

    // A push of the user's that arrives late (a receipt, a retry), at a gateway holding no key of
    // theirs in memory: it gets no new key, which no erasure would reach.
    const uncached = await startGateway([plainXml], { keyCacheSeconds: 0 });
    try {
      await push('CLICK', at - 2, { EventKey: 'late' }, uncached);
      await push('subscribe', at - 1, {}, uncached);
      await push('CLICK', at, { EventKey: 'back' }, uncached);
    } finally {
      await uncached.close();
    }
    const events = await eventually(async () => {
      const found = await landed(plainXml, openId);
      expect(found).toHaveLength(5);
      return found;
    }, 15_000);
    const [late, refollow, back] = events.slice(2);
    expect(late!.stored.datakeyid).toBeUndefined();
    expect(late!.erased).toBe(true);
    expect(JSON.stringify(late!.stored)).not.toContain(openId);
    expect(refollow!.stored.datakeyid).toEqual(expect.any(String));
    expect(back!.stored.datakeyid).toBe(refollow!.stored.datakeyid);
    expect(back!.erased).toBe(false);
  });
});
