import { toCanonicalEvent } from '../src/canonical-event';
import {
  MalformedPushError,
  PUSH_LIMITS,
  parseJsonPush,
  parseXmlPush,
  pushEnvelopeOf,
} from '../src/push-parser';
import { testPseudonymOf } from '../../../test/support/privacy';

const envelopeXml =
  '<ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>' +
  '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>';
const envelopeJson = '"ToUserName":"gh_abc","FromUserName":"oUser","CreateTime":1700000000,"MsgType":"text"';

/** The reason a body is refused with; fails when it is accepted. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedPushError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

function nestedXml(levels: number): string {
  return `<xml>${'<a>'.repeat(levels - 1)}x${'</a>'.repeat(levels - 1)}</xml>`;
}

/** A JSON object holding arrays nested so that `levels` containers are open at the deepest point. */
function nestedJson(levels: number): string {
  return `{"a":${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)}}`;
}

describe('push nesting and size are capped alike in both formats', () => {
  it(`accepts ${PUSH_LIMITS.maxDepth} levels and refuses one more`, () => {
    expect(() => parseXmlPush(nestedXml(PUSH_LIMITS.maxDepth))).not.toThrow();
    expect(() => parseJsonPush(nestedJson(PUSH_LIMITS.maxDepth))).not.toThrow();
    expect(refusal(() => parseXmlPush(nestedXml(PUSH_LIMITS.maxDepth + 1)))).toMatch(/nested deeper/);
    expect(refusal(() => parseJsonPush(nestedJson(PUSH_LIMITS.maxDepth + 1)))).toMatch(/nested deeper/);
  });

  it.each([
    ['3,000 nested arrays', nestedJson(3000)],
    ['9,000 nested arrays', nestedJson(9000)],
    ['5,000 nested objects', `{${'"a":{'.repeat(5000)}${'}'.repeat(5000)}}`],
    [
      'nesting hidden behind a string with brackets and escapes',
      `{"s":"[[\\"{{",${'"a":{'.repeat(40)}${'}'.repeat(40)}}`,
    ],
  ])('refuses %s before parsing', (_what, body) => {
    expect(refusal(() => parseJsonPush(body))).toMatch(/nested deeper than 16 levels/);
  });

  it('does not count brackets inside strings', () => {
    const fields = parseJsonPush(`{${envelopeJson},"Content":"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{\\""}`);
    expect(fields.Content).toBe('[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{"');
  });

  it.each([
    ['XML', () => parseXmlPush(`<xml>${'<a>1</a>'.repeat(PUSH_LIMITS.maxNodes)}</xml>`)],
    ['JSON', () => parseJsonPush(`{"a":[${Array(PUSH_LIMITS.maxNodes).fill('{}').join(',')}]}`)],
  ])(`refuses more than ${PUSH_LIMITS.maxNodes - 1} fields in %s`, (_what, parse) => {
    expect(refusal(parse)).toBe(`more than ${PUSH_LIMITS.maxNodes - 1} fields`);
  });

  it('keeps what WeChat really sends: a picture list four levels down', () => {
    const fields = parseXmlPush(
      `<xml>${envelopeXml}<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[abc]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>`,
    );
    expect(fields.SendPicsInfo).toEqual({ Count: '1', PicList: { item: [{ PicMd5Sum: 'abc' }] } });
  });
});

describe('DTDs are refused where the parser would read one, and only there', () => {
  const question = 'how do I fix <!DOCTYPE html> in my page? <!ENTITY x "y"> &amp; ]]';

  it('keeps a text that quotes markup in CDATA, and one that escapes it', () => {
    const cdata = parseXmlPush(`<xml>${envelopeXml}<Content><![CDATA[${question}]]></Content></xml>`);
    expect(cdata.Content).toBe(question);
    const escaped = parseXmlPush(`<xml>${envelopeXml}<Content>a &lt;!DOCTYPE html&gt; b</Content></xml>`);
    expect(escaped.Content).toBe('a <!DOCTYPE html> b');
    expect(parseJsonPush(`{${envelopeJson},"Content":${JSON.stringify(question)}}`).Content).toBe(question);
  });

  it('keeps a comment that mentions a DOCTYPE', () => {
    expect(() => parseXmlPush(`<!-- <!DOCTYPE x> --><xml>${envelopeXml}</xml>`)).not.toThrow();
  });

  it.each([
    ['a DOCTYPE before the root', '<!DOCTYPE xml><xml><a>1</a></xml>'],
    [
      'an entity declaration in the prolog',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "zz">]><xml><b>&e;</b></xml>',
    ],
    ['a DOCTYPE inside the root', '<xml><a>1</a><!DOCTYPE x [<!ENTITY e "zz">]><b>&e;</b></xml>'],
  ])('refuses %s', (_what, body) => {
    expect(refusal(() => parseXmlPush(body))).toBe('DTDs are not accepted');
  });

  it('refuses an external entity (the parser itself stops at it)', () => {
    const body = '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>';
    expect(refusal(() => parseXmlPush(body))).toMatch(/^(DTDs are not accepted|not well-formed XML)$/);
  });

  it('refuses an entity declaration outside a DTD, which the parser would take for an element', () => {
    expect(refusal(() => parseXmlPush('<xml><!ENTITY e "x"><b>c</b></xml>'))).toBe(
      'declarations are not accepted',
    );
  });

  it("decodes XML's five entities and nothing else", () => {
    const fields = parseXmlPush('<xml><a>&lt;&gt;&amp;&quot;&apos; &amp;lt; &#60; &nbsp;</a></xml>');
    expect(fields.a).toBe(`<>&"' &lt; &#60; &nbsp;`);
  });
});

describe('field names and repeated fields are treated alike in both formats', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'])(
    'refuses a field named %s',
    (name) => {
      const json = refusal(() => parseJsonPush(`{${envelopeJson},"${name}":{"polluted":"yes"}}`));
      const xml = refusal(() =>
        parseXmlPush(`<xml>${envelopeXml}<${name}><polluted>yes</polluted></${name}></xml>`),
      );
      expect(json).toBe(`a field is named ${name}, which is reserved`);
      expect(xml).toBe(json);
      const nested = refusal(() => parseJsonPush(`{${envelopeJson},"a":[{"${name}":1}]}`));
      expect(nested).toBe(json);
    },
  );

  it.each(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Event', 'EventKey', 'MsgId'])(
    'says that %s appears more than once',
    (name) => {
      const twice = `<${name}>a</${name}><${name}>b</${name}>`;
      const body = `<xml>${envelopeXml.replace(new RegExp(`<${name}>.*?</${name}>`), '')}${twice}</xml>`;
      expect(refusal(() => toCanonicalEvent('wxapp', parseXmlPush(body), testPseudonymOf))).toBe(
        `${name} appears more than once`,
      );
    },
  );

  it('says that a JSON field appears more than once', () => {
    expect(refusal(() => parseJsonPush(`{${envelopeJson},"FromUserName":"other"}`))).toBe(
      'a field appears more than once',
    );
  });
});

describe('elements WeChat repeats are lists whatever their count, in both formats', () => {
  const popupItem = (id: string) =>
    `<List><TemplateId><![CDATA[${id}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>`;
  const popupXml = (items: string) =>
    `<xml>${envelopeXml.replace('text', 'event')}<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>${items}</SubscribeMsgPopupEvent></xml>`;
  const item = (id: string) => ({ TemplateId: id, SubscribeStatusString: 'accept', PopupScene: '2' });

  it.each(['SubscribeMsgPopupEvent', 'SubscribeMsgChangeEvent', 'SubscribeMsgSentEvent'])(
    "%s's List in XML, one item or two",
    (element) => {
      const one = parseXmlPush(popupXml(popupItem('T1')).replaceAll('SubscribeMsgPopupEvent', element));
      expect(one[element]).toEqual({ List: [item('T1')] });
      const two = parseXmlPush(
        popupXml(popupItem('T1') + popupItem('T2')).replaceAll('SubscribeMsgPopupEvent', element),
      );
      expect(two[element]).toEqual({ List: [item('T1'), item('T2')] });
    },
  );

  it('a JSON subscribe_msg event, whose List is an object for one item and an array for several', () => {
    const json = (list: string) =>
      parseJsonPush(
        `{${envelopeJson.replace('"text"', '"event"')},"Event":"subscribe_msg_popup_event","List":${list}}`,
      );
    const one = JSON.stringify(item('T1'));
    expect(json(one).List).toEqual([item('T1')]);
    expect(json(`[${one}]`).List).toEqual([item('T1')]);
    expect(json(`[${one},${JSON.stringify(item('T2'))}]`).List).toEqual([item('T1'), item('T2')]);
  });

  it("a mass send's copyright results and a publish job's articles", () => {
    const mass = parseXmlPush(
      `<xml>${envelopeXml}<CopyrightCheckResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx></item></ResultList><CheckState>2</CheckState></CopyrightCheckResult></xml>`,
    );
    expect(mass.CopyrightCheckResult).toMatchObject({ ResultList: { item: [{ ArticleIdx: '1' }] } });
    const published = parseXmlPush(
      `<xml>${envelopeXml}<PublishEventInfo><publish_id>2247503051</publish_id><article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[ARTICLE_URL]]></article_url></item></article_detail></PublishEventInfo></xml>`,
    );
    expect(published.PublishEventInfo).toMatchObject({
      article_detail: { count: '1', item: [{ idx: '1', article_url: 'ARTICLE_URL' }] },
    });
  });
});

describe('reasons never quote the push', () => {
  const marker = 'ATTACKER<>"TEXT';
  it.each([
    ['unclosed XML', () => parseXmlPush(`<xml><${'Q'.repeat(50)}>${marker}</xml>`)],
    ['mismatched tags', () => parseXmlPush(`<xml><ATTACKERTAG>1</OTHER></xml>`)],
    ['bad JSON', () => parseJsonPush(`{"a":"${marker}" ATTACKER}`)],
    [
      'a CreateTime that is not seconds',
      () =>
        pushEnvelopeOf(
          parseXmlPush(`<xml>${envelopeXml.replace('1700000000', `ATTACKER${'9'.repeat(5000)}`)}</xml>`),
        ),
    ],
  ])('%s', (_what, parse) => {
    const reason = refusal(parse);
    expect(reason).not.toMatch(/ATTACKER|QQQ|line|col|position/);
    expect(reason.length).toBeLessThan(80);
  });
});
