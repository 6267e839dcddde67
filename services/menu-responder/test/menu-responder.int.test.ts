import { deadLetterTopicOf, Topics, type WechatEvent } from '@wxp/contracts';
import { EventPublisher, createKafka, type RunningConsumer } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { WechatApiClient } from '@wxp/wechat-api';
import pino from 'pino';
import { menuResponderConsumers } from '../src/responder';
import { startConsumers } from '../../../test/support/running-consumers';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { startAdmin, type RunningAdmin } from '../../../test/support/running-admin';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { canonicalEvent, SealingPublisher, testPseudonymOf } from '../../../test/support/privacy';
import { TopicReader } from '../../../test/support/topic-reader';
import { testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: 'silent' });
const account = testAccount({ encryptMode: 'safe' });
const secrets = { adminToken: 'responder-test-admin-token', privacyKey: 'responder-test-privacy-key' };
let mongo: MongoConnection;
let gateway: RunningGateway;
let emulator: RunningEmulator;
let admin: RunningAdmin;
let api: WechatApiClient;
let publisher: SealingPublisher;
/** Writes events exactly as given, for those sealed with a key the test destroys before they are read. */
let rawPublisher: EventPublisher;
const consumers: RunningConsumer[] = [];
// The emulator's clock runs ahead of the machine's by this much: a test moves it instead of waiting.
let clockAhead = 0;

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('responder')), 'responder-test');
  // The gateway, the test's publisher and the consumers share one keys database: the test's own.
  gateway = await startGateway([account], { keysDb: mongo.db });
  emulator = await startEmulator([account], { gatewayUrl: gateway.url, now: () => Date.now() + clockAhead });
  admin = await startAdmin(mongo, secrets, { accounts: [account], wechatApiBase: emulator.baseUrl });
  api = new WechatApiClient({
    baseUrl: emulator.baseUrl,
    secretOf: () => account.appSecret,
    tokenCollection: mongo.db.collection('wechat_access_tokens'),
  });
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'responder-test', logger });
  publisher = await SealingPublisher.connect(kafka, mongo.db);
  rawPublisher = await EventPublisher.connect(kafka);
  consumers.push(
    ...(await startConsumers(
      'menu-responder',
      kafka,
      mongo,
      menuResponderConsumers(api, logger, 3600, {
        recordReply: (record) =>
          rawPublisher.publish({ topic: Topics.events, key: record.subject!, event: record }),
      }),
    )),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await rawPublisher?.disconnect();
  await admin?.close();
  await emulator?.close();
  await gateway?.close();
  await mongo?.close();
});

const text = (content: string) => ({ msgtype: 'text', text: { content } });

describe('menu responder', () => {
  it('refuses reply rules that WeChat could not send, naming the field', async () => {
    const bad = await admin.request('PUT', `/api/apps/${account.appId}/replies`, {
      menu: { K: { msgtype: 'text' } },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('menu.K');
    const unknown = await admin.request('PUT', `/api/apps/${account.appId}/replies`, {
      menu: { K: { msgtype: 'fax' } },
    });
    expect(unknown.status).toBe(400);
  });

  it('welcomes a follow through a code and answers a menu click, once per event', async () => {
    const rules = {
      menu: { V1001_GOOD: text('谢谢点赞') },
      welcome: { '2024': text('欢迎来到春季活动'), default: text('欢迎') },
    };
    const accepted = await admin.request('PUT', `/api/apps/${account.appId}/replies`, rules);
    expect(accepted.status).toBe(202);
    await eventually(async () => {
      expect(await (await admin.get(`/api/apps/${account.appId}/replies`)).json()).toMatchObject(rules);
    }, 15_000);

    await api.createMenu(account.appId, {
      button: [{ type: 'click', name: '赞一下我们', key: 'V1001_GOOD' }],
    });
    const { ticket } = await api.createQrCode(account.appId, {
      kind: 'temporary',
      scene: 2024,
      expireSeconds: 600,
    });
    const user = uniqueName('alice');
    const act = async (body: Record<string, unknown>) => {
      const result = await emulator.control('simulate', { appId: account.appId, user, ...body });
      expect(result.body).toMatchObject({ delivered: true });
      return result.body as { openId: string };
    };
    const { openId } = await act({ action: 'scan', ticket });
    await act({ action: 'click', key: 'V1001_GOOD' });
    // The same click in the same second is the same push to WeChat's dedupe rule: a second later.
    clockAhead += 1000;
    await act({ action: 'click', key: 'V1001_GOOD' });

    await eventually(async () => {
      const messages = (await emulator.state(account.appId)).messages.filter((m) => m.touser === openId);
      expect(messages.map((m) => (m.message.text as { content: string }).content)).toEqual([
        '欢迎来到春季活动',
        '谢谢点赞',
        '谢谢点赞',
      ]);
    }, 15_000);
    // Every push answered once: one marker per event, each sent (the last may still be on its way).
    await eventually(async () => {
      const sent = await mongo.db.collection('sent_replies').find({ appId: account.appId }).toArray();
      expect(sent.map((s) => s.status)).toEqual(['sent', 'sent', 'sent']);
      expect(JSON.stringify(sent)).not.toContain(openId);
    }, 15_000);
    // Each reply is recorded on the topic, after the push it answers, naming its rule.
    const reader = await TopicReader.start(Topics.events);
    try {
      const recorded = await eventually(async () => {
        const events = reader
          .of(account.appId)
          .filter((e) => e.event.subject === testPseudonymOf(account.appId, openId));
        const replies = events.filter((e) => e.event.type === 'wechat.reply.sent');
        expect(replies).toHaveLength(3);
        return replies.map((e) => e.event.data as Record<string, unknown>);
      }, 15_000);
      expect(recorded.map((r) => [r.channel, r.rule, r.messageType])).toEqual([
        ['custom', 'welcome:2024', 'text'],
        ['custom', 'menu:V1001_GOOD', 'text'],
        ['custom', 'menu:V1001_GOOD', 'text'],
      ]);
    } finally {
      await reader.stop();
    }
  });

  async function newUser(): Promise<string> {
    const created = await emulator.control('users', {
      appId: account.appId,
      users: [{ name: uniqueName('clicker') }],
    });
    return (created.body.users as { openId: string }[])[0]!.openId;
  }

  const clickEvent = (key: string, openId: string, secondsAgo = 0) =>
    canonicalEvent(account.appId, {
      ToUserName: account.originalId ?? 'gh',
      FromUserName: openId,
      CreateTime: String(Math.floor(Date.now() / 1000) - secondsAgo),
      MsgType: 'event',
      Event: 'CLICK',
      EventKey: key,
    });

  /** A click on `key` by a fresh emulator user (or `openId`), published as the gateway would, `secondsAgo` old. */
  async function click(
    key: string,
    secondsAgo = 0,
    openId?: string,
  ): Promise<{ openId: string; eventId: string; publishAgain: () => Promise<void> }> {
    openId ??= await newUser();
    const event = clickEvent(key, openId, secondsAgo);
    const publishAgain = () => publisher.publish(event);
    await publishAgain();
    return { openId, eventId: event.id, publishAgain };
  }

  const marker = (eventId: string) => mongo.db.collection('sent_replies').findOne({ _id: eventId } as never);
  const messagesTo = async (openId: string) =>
    (await emulator.state(account.appId)).messages.filter((m) => m.touser === openId);

  async function setRules(menu: Record<string, unknown>): Promise<void> {
    expect((await admin.request('PUT', `/api/apps/${account.appId}/replies`, { menu })).status).toBe(202);
    await eventually(async () => {
      expect(await (await admin.get(`/api/apps/${account.appId}/replies`)).json()).toMatchObject({ menu });
    }, 15_000);
  }

  it('lets clicks older than RESPONDER_MAX_AGE_SECONDS go without a reply or a marker', async () => {
    await setRules({ OLD: text('late'), NEW: text('on time') });
    // One user's events share a partition and are applied in order: once the fresh click is
    // answered, the old one before it has been handled.
    const old = await click('OLD', 3601);
    const fresh = await click('NEW', 0, old.openId);
    await eventually(
      async () => expect(await marker(fresh.eventId)).toMatchObject({ status: 'sent' }),
      15_000,
    );
    expect(await marker(old.eventId)).toBeNull();
    expect(
      (await messagesTo(old.openId)).map((m) => (m.message.text as { content: string }).content),
    ).toEqual(['on time']);
  });

  it('answers an event the topic holds twice once, and lets the copy go without dead-lettering it', async () => {
    await setRules({ TWICE: text('once only'), AFTER: text('after the copy') });
    const deadLetters = await TopicReader.start(deadLetterTopicOf(Topics.events));
    try {
      // The gateway stores a push twice when the broker's acknowledgement was lost; the copy
      // follows the original in the user's partition, and so does the user's next click.
      const first = await click('TWICE');
      await first.publishAgain();
      const next = await click('AFTER', 0, first.openId);
      await eventually(
        async () => expect(await marker(next.eventId)).toMatchObject({ status: 'sent' }),
        15_000,
      );
      expect(await marker(first.eventId)).toMatchObject({ status: 'sent' });
      expect(
        (await messagesTo(first.openId)).map((m) => (m.message.text as { content: string }).content),
      ).toEqual(['once only', 'after the copy']);
      // Everything the responder dead-lettered before the next click was sent is in the topic now.
      await deadLetters.readToEnd();
      expect(deadLetters.of(account.appId).map((e) => e.event.id)).not.toContain(first.eventId);
    } finally {
      await deadLetters.stop();
    }
  });

  it.each([
    [45015, 'outside the 48-hour window'],
    [43004, 'unfollowed'],
  ])('records WeChat refusing with %i (%s), and does not retry it', async (errcode) => {
    await setRules({ REFUSED: text('refused') });
    await emulator.control('faults', { appId: account.appId, api: 'message/custom/send', errcode, times: 1 });
    const refused = await click('REFUSED');
    await eventually(
      async () => expect(await marker(refused.eventId)).toMatchObject({ status: 'refused', errcode }),
      15_000,
    );
    // The fault was used up by the one call: a retry would have gone through and been delivered.
    expect((await emulator.state(account.appId)).messages.filter((m) => m.touser === refused.openId)).toEqual(
      [],
    );
    const next = await click('REFUSED');
    await eventually(
      async () => expect(await marker(next.eventId)).toMatchObject({ status: 'sent' }),
      15_000,
    );
    expect(await messagesTo(refused.openId)).toEqual([]);
  });

  it('sends a reply once when WeChat sent it and then said it was busy, and records it as unconfirmed', async () => {
    await setRules({ BUSY: text('just once') });
    await emulator.control('faults', {
      appId: account.appId,
      api: 'message/custom/send',
      errcode: -1,
      afterDoing: true,
      times: 1,
    });
    const busy = await click('BUSY');
    await eventually(
      async () => expect(await marker(busy.eventId)).toMatchObject({ status: 'unconfirmed', errcode: -1 }),
      15_000,
    );
    expect(
      (await messagesTo(busy.openId)).map((m) => (m.message.text as { content: string }).content),
    ).toEqual(['just once']);
  });

  it('lets the click of an erased user go without a reply, a marker or a dead letter', async () => {
    await setRules({ GONE: text('for nobody'), BACK: text('for the user who came back') });
    const deadLetters = await TopicReader.start(deadLetterTopicOf(Topics.events));
    try {
      const openId = await newUser();
      const pseudonym = testPseudonymOf(account.appId, openId);
      // Sealed with a key the responder has never held, destroyed before it reads the click.
      const gone = await publisher.seal(clickEvent('GONE', openId));
      expect(await publisher.keys.eraseUser(pseudonym)).toBeGreaterThan(0);
      await rawPublisher.publish({ topic: Topics.events, key: pseudonym, event: gone });
      const erasure = {
        ...clickEvent('GONE', openId),
        id: `erased-${gone.id}`,
        type: 'wechat.user.erased',
        dataschema: 'urn:wxp:schema:wechat.user.erased:v1',
        data: { appId: account.appId, requestedAt: Math.floor(Date.now() / 1000) },
      } as WechatEvent;
      await rawPublisher.publish({ topic: Topics.events, key: pseudonym, event: erasure });
      // The same user's next click (under a new key) follows in the partition: once it is answered,
      // the erased click and the erasure before it have been handled.
      const next = await click('BACK', 0, openId);
      await eventually(
        async () => expect(await marker(next.eventId)).toMatchObject({ status: 'sent' }),
        15_000,
      );
      expect(await marker(gone.id)).toBeNull();
      expect((await messagesTo(openId)).map((m) => (m.message.text as { content: string }).content)).toEqual([
        'for the user who came back',
      ]);
      await deadLetters.readToEnd();
      const dead = deadLetters.of(account.appId).map((e) => e.event.id);
      expect(dead).not.toContain(gone.id);
      expect(dead).not.toContain(erasure.id);
    } finally {
      await deadLetters.stop();
    }
  });
});
