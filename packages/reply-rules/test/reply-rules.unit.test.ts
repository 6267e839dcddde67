import { XMLParser } from 'fast-xml-parser';
import type { AdminEvent } from '@wxp/contracts';
import {
  ReplyRulesBook,
  noRules,
  passiveReplyXml,
  replyFor,
  replyMessageProblems,
  type ReplyMessage,
  type ReplyRules,
} from '@wxp/reply-rules';
import { wechatEvent } from '../../../test/support/wechat-events';

const text = (content: string) => ({ msgtype: 'text', text: { content } });
const click = (key: string) => wechatEvent('wechat.menu.clicked', 'wx1', 'o', 1, { key });
const follow = (scene?: string) =>
  wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1, scene === undefined ? {} : { scene });
const scan = (scene: string) => wechatEvent('wechat.qrcode.scanned', 'wx1', 'o', 1, { scene });
const says = (content: string) =>
  wechatEvent('wechat.message.received', 'wx1', 'o', 1, { msgType: 'text', fields: { Content: content } });

const rules: ReplyRules = {
  menu: { V1001: text('song') },
  welcome: { spring: text('spring welcome'), default: text('welcome') },
  scan: { summer: text('summer again'), default: text('hello again') },
  keywords: {
    rules: [
      { match: 'exact', keyword: 'price', reply: text('price list') },
      { match: 'contains', keyword: 'refund', reply: text('refunds') },
      { match: 'contains', keyword: 'pri', reply: text('never: price matched first') },
    ],
    default: text('we read everything'),
  },
};

describe('choosing a reply', () => {
  it('a menu key, a follow by scene or the default welcome, a scan by scene or its default', () => {
    expect(replyFor(rules, click('V1001'))).toEqual({ rule: 'menu:V1001', message: text('song') });
    expect(replyFor(rules, click('other'))).toBeUndefined();
    expect(replyFor(rules, follow('spring'))).toEqual({
      rule: 'welcome:spring',
      message: text('spring welcome'),
    });
    expect(replyFor(rules, follow('autumn'))).toEqual({ rule: 'welcome:default', message: text('welcome') });
    expect(replyFor(rules, follow())).toEqual({ rule: 'welcome:default', message: text('welcome') });
    expect(replyFor(rules, scan('summer'))).toEqual({ rule: 'scan:summer', message: text('summer again') });
    expect(replyFor(rules, scan('winter'))).toEqual({ rule: 'scan:default', message: text('hello again') });
    expect(replyFor(null, follow())).toBeUndefined();
    expect(replyFor(rules, wechatEvent('wechat.menu.viewed', 'wx1', 'o', 1))).toBeUndefined();
  });

  it('a text by the first keyword rule it matches, exact or contained, then the default', () => {
    expect(replyFor(rules, says(' price '))).toEqual({ rule: 'keywords:0', message: text('price list') });
    expect(replyFor(rules, says('my refund, please'))).toEqual({
      rule: 'keywords:1',
      message: text('refunds'),
    });
    expect(replyFor(rules, says('prices?'))).toEqual({
      rule: 'keywords:2',
      message: text('never: price matched first'),
    });
    expect(replyFor(rules, says('hello'))).toEqual({
      rule: 'keywords:default',
      message: text('we read everything'),
    });
    expect(replyFor({ ...rules, keywords: { rules: [] } }, says('hello'))).toBeUndefined();
  });

  it('only a text message is matched against keywords', () => {
    const image = wechatEvent('wechat.message.received', 'wx1', 'o', 1, {
      msgType: 'image',
      fields: { Content: 'price' },
    });
    expect(replyFor(rules, image)).toBeUndefined();
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'finds nothing for the key or scene %s, which every object inherits',
    (name) => {
      const own = { ...noRules, menu: { V1001: text('song') }, welcome: { spring: text('hi') }, scan: {} };
      expect(replyFor(own, click(name))).toBeUndefined();
      expect(replyFor(own, follow(name))).toBeUndefined();
      expect(replyFor(own, scan(name))).toBeUndefined();
    },
  );

  it('never lets a rule choose its recipient, even one written before the admin API refused them', () => {
    const redirecting: ReplyRules = {
      ...rules,
      menu: { V1001: { ...text('song'), touser: 'o-someone-else' } },
      welcome: { default: { touser: 'o-someone-else', ...text('hi') } },
    };
    expect(replyFor(redirecting, click('V1001'))?.message).toEqual(text('song'));
    expect(replyFor(redirecting, follow())?.message).toEqual(text('hi'));
  });
});

describe('the rules book', () => {
  const set = (appId: string, menu: object, extra: object = {}) =>
    ({
      type: 'wechat.admin.reply_rules.set',
      id: 'x',
      data: { appId, menu, welcome: {}, ...extra },
    }) as unknown as AdminEvent;

  it("keeps each account's last rules, and rules written before scan and keywords existed", () => {
    const book = new ReplyRulesBook();
    book.apply(set('wx1', { a: text('1') }));
    book.apply(
      set(
        'wx2',
        { b: text('2') },
        { keywords: { rules: [{ match: 'exact', keyword: 'k', reply: text('3') }] } },
      ),
    );
    book.apply(set('wx1', { c: text('4') }));
    expect(book.rulesOf('wx1')).toEqual({ ...noRules, menu: { c: text('4') } });
    expect(book.rulesOf('wx2')?.keywords.rules).toHaveLength(1);
    expect(book.rulesOf('wx3')).toBeUndefined();
  });
});

const parser = new XMLParser({ parseTagValue: false });
const parsed = (xml: string | undefined) => (parser.parse(xml ?? '') as { xml: Record<string, unknown> }).xml;
const to = { toUserName: 'oUser', fromUserName: 'gh_account', createTime: 1700000000 };

describe('passive replies as WeChat reads them', () => {
  it.each<[string, ReplyMessage, Record<string, unknown>]>([
    ['text', text('hello <b> ]]> & you'), { Content: 'hello <b> ]]> & you' }],
    ['image', { msgtype: 'image', image: { media_id: 'MEDIA' } }, { Image: { MediaId: 'MEDIA' } }],
    ['voice', { msgtype: 'voice', voice: { media_id: 'MEDIA' } }, { Voice: { MediaId: 'MEDIA' } }],
    [
      'video',
      { msgtype: 'video', video: { media_id: 'MEDIA', title: 'T', description: 'D' } },
      { Video: { MediaId: 'MEDIA', Title: 'T', Description: 'D' } },
    ],
    [
      'music',
      {
        msgtype: 'music',
        music: {
          title: 'T',
          description: 'D',
          musicurl: 'http://m',
          hqmusicurl: 'http://hq',
          thumb_media_id: 'TH',
        },
      },
      {
        Music: {
          Title: 'T',
          Description: 'D',
          MusicUrl: 'http://m',
          HQMusicUrl: 'http://hq',
          ThumbMediaId: 'TH',
        },
      },
    ],
    [
      'news',
      {
        msgtype: 'news',
        news: { articles: [{ title: 'T', description: 'D', url: 'http://u', picurl: 'http://p' }] },
      },
      {
        ArticleCount: '1',
        Articles: { item: { Title: 'T', Description: 'D', PicUrl: 'http://p', Url: 'http://u' } },
      },
    ],
  ])('a %s reply', (msgtype, message, elements) => {
    expect(parsed(passiveReplyXml(message, to))).toEqual({
      ToUserName: 'oUser',
      FromUserName: 'gh_account',
      CreateTime: '1700000000',
      MsgType: msgtype,
      ...elements,
    });
  });

  it('none for kinds WeChat takes only through the customer-service API', () => {
    expect(passiveReplyXml({ msgtype: 'mpnews', mpnews: { media_id: 'M' } }, to)).toBeUndefined();
    expect(passiveReplyXml({ msgtype: 'miniprogrampage', miniprogrampage: {} }, to)).toBeUndefined();
  });
});

describe('replies checked as WeChat would', () => {
  it.each<[string, unknown, string]>([
    ['not an object', 'hi', 'r must be a message object'],
    [
      'a recipient',
      { ...text('x'), touser: 'o' },
      'r.touser is not allowed: a reply goes to the user who acted',
    ],
    ['no msgtype', { text: { content: 'x' } }, 'r.msgtype is required'],
    ['an unknown kind', { msgtype: 'hologram', hologram: {} }, 'r.msgtype "hologram" is not a kind of reply'],
    ['no body', { msgtype: 'text' }, 'r: a "text" message needs a "text" object'],
    ['text that is no text', { msgtype: 'text', text: { content: 5 } }, 'r.text.content must be text'],
    ['empty text', text(''), 'r.text.content must not be empty'],
    ['text over 2,048 bytes', text('字'.repeat(683)), 'r.text.content is over 2048 bytes'],
    ['an image without media', { msgtype: 'image', image: {} }, 'r.image.media_id is required'],
    [
      'music without its thumbnail',
      { msgtype: 'music', music: { musicurl: 'u', hqmusicurl: 'u' } },
      'r.music.thumb_media_id is required',
    ],
    [
      'news with two articles',
      { msgtype: 'news', news: { articles: [{}, {}] } },
      'r.news.articles must hold exactly one article',
    ],
    [
      'an article without its url',
      { msgtype: 'news', news: { articles: [{ title: 'T' }] } },
      'r.news.articles[0].url is required',
    ],
  ])('refuses %s', (_what, message, problem) => {
    expect(replyMessageProblems('r', message)).toContain(problem);
  });

  it('takes each kind with its required fields', () => {
    for (const message of [
      text('字'.repeat(682)),
      { msgtype: 'image', image: { media_id: 'M' } },
      { msgtype: 'video', video: { media_id: 'M' } },
      { msgtype: 'music', music: { musicurl: 'u', hqmusicurl: 'u', thumb_media_id: 'T' } },
      { msgtype: 'news', news: { articles: [{ title: 'T', url: 'http://u' }] } },
      { msgtype: 'mpnews', mpnews: { media_id: 'M' } },
    ])
      expect(replyMessageProblems('r', message)).toEqual([]);
  });
});
