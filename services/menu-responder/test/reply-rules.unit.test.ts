import type { AdminEvent } from '@wxp/contracts';
import { noRules } from '@wxp/reply-rules';
import { replyRulesOf, replyRulesProjection } from '../src/reply-rules';
import { projectionSpec } from '../../../test/support/projection-spec';

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
          ...noRules,
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
        expect(replyRulesOf(stored ?? null)).toEqual({ ...noRules, menu, welcome: { 'a.b': text('hi') } });
      });
  });

  it('read documents written before the rules were kept as text', () => {
    const old = { _id: 'wx1', appId: 'wx1', position: 1, menu: { a: text('1') }, welcome: {} };
    expect(replyRulesOf(old)).toEqual({ ...noRules, menu: { a: text('1') } });
  });
});
