import type { AdminEvent } from '@wxp/contracts';
import { replyFor, replyRulesOf, replyRulesProjection, type ReplyRules } from '../src/reply-rules';
import { projectionSpec } from '../../../test/support/projection-spec';
import { wechatEvent } from '../../../test/support/wechat-events';

const text = (content: string) => ({ msgtype: 'text' as const, text: { content } });
const rulesSet = (menu: object, welcome: object) =>
  ({
    type: 'wechat.admin.reply_rules.set',
    id: 'x',
    data: { appId: 'wx1', menu, welcome },
  }) as unknown as AdminEvent;

describe('reply rules', () => {
  it('keep the last rules the admin API set', () => {
    projectionSpec(replyRulesProjection)
      .given(rulesSet({ a: text('1') }, {}))
      .when(rulesSet({ b: text('2') }, { default: text('hi') }))
      .then((docs) =>
        expect(replyRulesOf(docs.get('wx1') ?? null)).toEqual({
          menu: { b: text('2') },
          welcome: { default: text('hi') },
        }),
      );
  });

  it('store keys and fields that the store refuses as field names inside text, and read them back', () => {
    const menu = { 'promo.2026': text('offer'), $deal: text('deal') };
    projectionSpec(replyRulesProjection)
      .given()
      .when(rulesSet(menu, { 'a.b': text('hi') }))
      .then((docs) => {
        const stored = docs.get('wx1');
        const names = (value: unknown): string[] =>
          value !== null && typeof value === 'object'
            ? Object.entries(value).flatMap(([k, v]) => [k, ...names(v)])
            : [];
        expect(names(stored).filter((name) => name.includes('.') || name.startsWith('$'))).toEqual([]);
        expect(replyRulesOf(stored ?? null)).toEqual({ menu, welcome: { 'a.b': text('hi') } });
      });
  });

  it('read documents written before the rules were kept as text', () => {
    const old = { _id: 'wx1', appId: 'wx1', position: 1, menu: { a: text('1') }, welcome: {} };
    expect(replyRulesOf(old)).toEqual({ menu: { a: text('1') }, welcome: {} });
  });

  it('choose the reply for a menu key, the welcome for a scene, or the default welcome', () => {
    const rules = {
      _id: 'wx1',
      appId: 'wx1',
      position: 1,
      menu: { V1001: text('song') },
      welcome: { spring: text('spring welcome'), default: text('welcome') },
    } as ReplyRules;
    expect(replyFor(rules, wechatEvent('wechat.menu.clicked', 'wx1', 'o', 1, { key: 'V1001' }))).toEqual(
      text('song'),
    );
    expect(
      replyFor(rules, wechatEvent('wechat.menu.clicked', 'wx1', 'o', 1, { key: 'other' })),
    ).toBeUndefined();
    expect(
      replyFor(rules, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1, { scene: 'spring' })),
    ).toEqual(text('spring welcome'));
    expect(
      replyFor(rules, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1, { scene: 'autumn' })),
    ).toEqual(text('welcome'));
    expect(replyFor(rules, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1))).toEqual(text('welcome'));
    expect(replyFor(null, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1))).toBeUndefined();
    expect(replyFor(rules, wechatEvent('wechat.menu.viewed', 'wx1', 'o', 1))).toBeUndefined();
  });
});

describe('reply rules looked up by what users send', () => {
  const rules = {
    _id: 'wx1',
    appId: 'wx1',
    position: 1,
    menu: { V1001: text('song') },
    welcome: { spring: text('spring welcome') },
  } as ReplyRules;

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'find nothing for the key or scene %s, which every object inherits',
    (name) => {
      expect(
        replyFor(rules, wechatEvent('wechat.menu.clicked', 'wx1', 'o', 1, { key: name })),
      ).toBeUndefined();
      expect(
        replyFor(rules, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1, { scene: name })),
      ).toBeUndefined();
    },
  );

  it('never let a rule choose its recipient, even one written before the admin API refused them', () => {
    const redirecting = {
      ...rules,
      menu: { V1001: { ...text('song'), touser: 'o-someone-else' } },
      welcome: { default: { touser: 'o-someone-else', ...text('hi') } },
    } as ReplyRules;
    expect(
      replyFor(redirecting, wechatEvent('wechat.menu.clicked', 'wx1', 'o', 1, { key: 'V1001' })),
    ).toEqual(text('song'));
    expect(replyFor(redirecting, wechatEvent('wechat.user.subscribed', 'wx1', 'o', 1))).toEqual(text('hi'));
  });
});
