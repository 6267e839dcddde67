import { createHash, randomUUID } from 'node:crypto';
import { ReplySent, ReplyRulesSet, Topics, sourceOfApp, type CloudEvent } from '@wxp/contracts';
import type { Account } from '@wxp/accounts';
import { EventPublisher, createKafka, type Kafka } from '@wxp/kafka';
import { aesKeyOf, decryptMessage } from '@wxp/wechat-push';
import { XMLParser } from 'fast-xml-parser';
import pino from 'pino';
import { ReplyRulesFeed } from '../src/reply-rules-feed';
import { eventually, kafkaBrokers, uniqueName } from '../../../test/support/infrastructure';
import { closeSharedKeysDb, sharedKeysDb, testOpener, testPseudonymOf } from '../../../test/support/privacy';
import { startEmulator } from '../../../test/support/running-emulator';
import { startGateway, type RunningGateway } from '../../../test/support/running-gateway';
import { TopicReader } from '../../../test/support/topic-reader';
import {
  eventFields,
  signedPush,
  testAccount,
  type PushFieldValues,
} from '../../../test/support/wechat-push';

const passive = (overrides: Partial<Account>) => testAccount({ replyChannel: 'passive', ...overrides });
const plainXml = passive({ encryptMode: 'plain' });
const compatXml = passive({ encryptMode: 'compat' });
const safeXml = passive({ encryptMode: 'safe' });
const safeJson = passive({ encryptMode: 'safe', format: 'json' });
const custom = testAccount({ encryptMode: 'safe' });
const xmlAccounts = [plainXml, compatXml, safeXml];
const accounts = [...xmlAccounts, safeJson, custom];

const text = (content: string) => ({ msgtype: 'text', text: { content } });
const rulesFor = (appId: string, welcome = 'welcome aboard') => ({
  appId,
  menu: {
    TEXT: text('the menu says hi'),
    IMAGE: { msgtype: 'image', image: { media_id: 'MEDIA_IMAGE' } },
    VOICE: { msgtype: 'voice', voice: { media_id: 'MEDIA_VOICE' } },
  },
  welcome: { default: text(welcome) },
  scan: {
    spring: { msgtype: 'video', video: { media_id: 'MEDIA_VIDEO', title: 'Spring', description: 'Again' } },
  },
  keywords: {
    rules: [
      {
        match: 'exact' as const,
        keyword: 'song',
        reply: {
          msgtype: 'music',
          music: {
            title: 'T',
            description: 'D',
            musicurl: 'http://m',
            hqmusicurl: 'http://hq',
            thumb_media_id: 'TH',
          },
        },
      },
      {
        match: 'contains' as const,
        keyword: 'news',
        reply: {
          msgtype: 'news',
          news: { articles: [{ title: 'Today', description: 'D', url: 'http://u', picurl: 'http://p' }] },
        },
      },
    ],
  },
});

let kafka: Kafka;
let admin: EventPublisher;
let feed: ReplyRulesFeed;
let gateway: RunningGateway;
let reader: TopicReader;

async function setRules(data: ReturnType<typeof rulesFor>): Promise<void> {
  const event: CloudEvent = {
    specversion: '1.0',
    id: randomUUID(),
    source: sourceOfApp(data.appId),
    type: ReplyRulesSet.type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: ReplyRulesSet.dataschema,
    data: { ...data, actor: 'admin-token' },
  };
  await admin.publish({ topic: Topics.admin, key: data.appId, event });
}

beforeAll(async () => {
  kafka = createKafka({
    brokers: kafkaBrokers(),
    clientId: 'passive-replies-test',
    logger: pino({ level: 'silent' }),
  });
  admin = await EventPublisher.connect(kafka);
  for (const account of accounts) await setRules(rulesFor(account.appId));
  feed = await ReplyRulesFeed.start(kafka, pino({ level: 'silent' }));
  await feed.caughtUp();
  reader = await TopicReader.start(Topics.events, undefined, { opener: testOpener(await sharedKeysDb()) });
  gateway = await startGateway(accounts, { replyRules: feed });
});

afterAll(async () => {
  await gateway?.close();
  await feed?.stop();
  await reader?.stop();
  await admin?.disconnect();
  await closeSharedKeysDb();
});

const parser = new XMLParser({ parseTagValue: false });
const sha1 = (...parts: string[]) => createHash('sha1').update(parts.sort().join('')).digest('hex');

/** The reply as the user's WeChat shows it: checked and decrypted as WeChat does in compat and safe mode. */
function replyOf(account: Account, answer: string): Record<string, unknown> {
  const outer = (parser.parse(answer) as { xml: Record<string, string> }).xml;
  if (account.encryptMode === 'plain') return outer;
  const { Encrypt, MsgSignature, TimeStamp, Nonce } = outer as Record<string, string>;
  expect(MsgSignature).toBe(sha1(account.token, String(TimeStamp), String(Nonce), String(Encrypt)));
  const inner = decryptMessage(String(Encrypt), aesKeyOf(account.encodingAESKey), account.appId);
  return (parser.parse(inner) as { xml: Record<string, unknown> }).xml;
}

const pushes: [string, (a: Account, o: string) => PushFieldValues, Record<string, unknown>, string][] = [
  [
    'a menu click, answered with text',
    (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'TEXT' }),
    { MsgType: 'text', Content: 'the menu says hi' },
    'menu:TEXT',
  ],
  [
    'a menu click, answered with an image',
    (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'IMAGE' }),
    { MsgType: 'image', Image: { MediaId: 'MEDIA_IMAGE' } },
    'menu:IMAGE',
  ],
  [
    'a menu click, answered with a voice',
    (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'VOICE' }),
    { MsgType: 'voice', Voice: { MediaId: 'MEDIA_VOICE' } },
    'menu:VOICE',
  ],
  [
    'a follow, answered with the welcome',
    (a, o) => eventFields(a, o, 'subscribe'),
    { MsgType: 'text', Content: 'welcome aboard' },
    'welcome:default',
  ],
  [
    "a follower's scan, answered with a video",
    (a, o) => eventFields(a, o, 'SCAN', { EventKey: 'spring', Ticket: 'T' }),
    { MsgType: 'video', Video: { MediaId: 'MEDIA_VIDEO', Title: 'Spring', Description: 'Again' } },
    'scan:spring',
  ],
  [
    'a text, answered with music',
    (a, o) => ({ ...eventFields(a, o, 'x'), MsgType: 'text', Event: '', Content: 'song', MsgId: '1' }),
    {
      MsgType: 'music',
      Music: {
        Title: 'T',
        Description: 'D',
        MusicUrl: 'http://m',
        HQMusicUrl: 'http://hq',
        ThumbMediaId: 'TH',
      },
    },
    'keywords:0',
  ],
  [
    'a text, answered with news',
    (a, o) => ({ ...eventFields(a, o, 'x'), MsgType: 'text', Event: '', Content: 'any news?', MsgId: '2' }),
    {
      MsgType: 'news',
      ArticleCount: '1',
      Articles: { item: { Title: 'Today', Description: 'D', PicUrl: 'http://p', Url: 'http://u' } },
    },
    'keywords:1',
  ],
];

function pushOf(account: Account, fieldsOf: (a: Account, o: string) => PushFieldValues, openId: string) {
  const fields = fieldsOf(account, openId);
  if (fields.Event === '') delete fields.Event;
  return signedPush(account, fields);
}

describe.each(xmlAccounts.map((a) => [`${a.encryptMode} mode`, a] as const))(
  'passive replies in %s',
  (_mode, account) => {
    it.each(pushes)('%s', async (_what, fieldsOf, expected, rule) => {
      const openId = uniqueName('oReply');
      const push = pushOf(account, fieldsOf, openId);
      const answer = await gateway.post(account.appId, push);
      expect(answer.status).toBe(200);
      const reply = replyOf(account, answer.text);
      expect(reply).toMatchObject({ ToUserName: openId, FromUserName: account.originalId, ...expected });
      expect(Math.abs(Number(reply.CreateTime) - Date.now() / 1000)).toBeLessThan(10);

      // WeChat's retry of the same push gets the same reply, and the reply is recorded once.
      const retried = await gateway.post(account.appId, push);
      expect(replyOf(account, retried.text)).toEqual(reply);
      const pseudonym = testPseudonymOf(account.appId, openId);
      const events = await eventually(async () => {
        const landed = await reader.landed(account.appId, pseudonym);
        expect(landed).toHaveLength(2);
        return landed;
      }, 15_000);
      const [pushed, recorded] = events.map((e) => e.event);
      // The push says the gateway answered it: the menu responder leaves it alone.
      expect(pushed?.replychannel).toBe('passive');
      expect(recorded).toMatchObject({
        type: ReplySent.type,
        subject: pseudonym,
        causationid: pushed?.id,
        data: {
          appId: account.appId,
          replyTo: pushed?.id,
          channel: 'passive',
          rule,
          messageType: expected.MsgType,
        },
      });
      // Nothing of the user's, nor the reply's content, is in the record.
      expect(JSON.stringify(recorded)).not.toContain(openId);
    });

    it('answers success, unencrypted, to a push no rule matches', async () => {
      const push = pushOf(
        account,
        (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'NO_RULE' }),
        uniqueName('o'),
      );
      expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });
    });
  },
);

describe('accounts that do not reply inside the answer', () => {
  it.each([
    ['a passive account with JSON bodies (WeChat documents no passive reply for them)', safeJson],
    ['an account whose replies go through the customer-service API', custom],
  ])('%s: success, and no reply recorded', async (_what, account) => {
    const openId = uniqueName('o');
    const push = pushOf(account, (a, o) => eventFields(a, o, 'CLICK', { EventKey: 'TEXT' }), openId);
    expect(await gateway.post(account.appId, push)).toEqual({ status: 200, text: 'success' });
    await reader.readToEnd();
    const landed = reader
      .of(account.appId)
      .filter((e) => e.event.subject === testPseudonymOf(account.appId, openId));
    expect(landed.map((e) => e.event.type)).toEqual(['wechat.menu.clicked']);
  });
});

describe('through the emulator', () => {
  it.each([
    ['safe', safeXml],
    ['compat', compatXml],
  ])(
    'a user of a %s-mode account follows, writes and sees the replies, decrypted',
    async (_mode, account) => {
      const emulator = await startEmulator([account], { gatewayUrl: gateway.url });
      try {
        const user = uniqueName('bob');
        const follow = await emulator.control('simulate', { appId: account.appId, user, action: 'follow' });
        expect(follow.body).toMatchObject({
          delivered: true,
          reply: { MsgType: 'text', Content: 'welcome aboard', FromUserName: account.originalId },
        });
        const song = await emulator.control('simulate', {
          appId: account.appId,
          user,
          action: 'text',
          content: 'song',
        });
        expect(song.body).toMatchObject({
          delivered: true,
          reply: { MsgType: 'music', Music: { Title: 'T' } },
        });
        expect((song.body as { attempts: unknown[] }).attempts).toHaveLength(1);
      } finally {
        await emulator.close();
      }
    },
  );
});

describe('the rules in force', () => {
  it('a change is answered by the gateway within a second of being written', async () => {
    const account = plainXml;
    const welcome = uniqueName('welcome');
    await setRules(rulesFor(account.appId, welcome));
    const written = Date.now();
    const seen = await eventually(
      async () => {
        const push = pushOf(account, (a, o) => eventFields(a, o, 'subscribe'), uniqueName('o'));
        const reply = replyOf(account, (await gateway.post(account.appId, push)).text);
        expect(reply.Content).toBe(welcome);
        return Date.now();
      },
      5_000,
      20,
    );
    expect(seen - written).toBeLessThan(1000);
  });

  it('a gateway that has not read the rules yet answers 503, so that WeChat retries', async () => {
    const early = await startGateway([plainXml], {
      replyRules: { rulesOf: () => undefined, isReady: () => false },
    });
    try {
      const push = pushOf(plainXml, (a, o) => eventFields(a, o, 'subscribe'), uniqueName('o'));
      const answer = await early.post(plainXml.appId, push);
      expect(answer.status).toBe(503);
      expect(answer.text).toContain('rules_not_ready');
      const health = await fetch(`${early.url}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { checks: Record<string, string> }).checks.replyRules).toBe(
        'still reading the reply rules',
      );
    } finally {
      await early.close();
    }
  });

  it('a fresh feed is ready only once it has read the rules written before it started', async () => {
    const fresh = await ReplyRulesFeed.start(kafka, pino({ level: 'silent' }));
    try {
      await fresh.caughtUp();
      for (const account of accounts)
        expect(fresh.rulesOf(account.appId)?.menu.TEXT).toEqual(text('the menu says hi'));
    } finally {
      await fresh.stop();
    }
  });
});
