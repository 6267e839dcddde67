import { randomBytes } from 'node:crypto';
import { eventCatalogue, openedSchemaProblems, schemaProblems, type PushEvent } from '@wxp/contracts';
import { openEvent, personalPathsOf, sealEvent } from '@wxp/privacy';
import { toCanonicalEvent } from '../src/canonical-event';
import { parseJsonPush, parseXmlPush } from '../src/push-parser';
import { testPseudonymOf } from '../../../test/support/privacy';
import { documentedPushBody, documentedPushes } from '../../../test/support/documented-pushes';

const appId = 'wxapp';
const parse = { xml: parseXmlPush, json: parseJsonPush } as const;

function eventOf(body: string, format: 'xml' | 'json' = 'xml', untyped: string[] = []): PushEvent {
  return toCanonicalEvent(appId, parse[format](body), testPseudonymOf, (expected) => untyped.push(expected));
}

const xmlPush = (inner: string, createTime = 1700000000) =>
  `<xml><ToUserName>gh_abc</ToUserName><FromUserName>oUser1</FromUserName><CreateTime>${createTime}</CreateTime>${inner}</xml>`;

describe.each(['xml', 'json'] as const)("WeChat's documented examples in %s", (format) => {
  it.each(documentedPushes.map((p) => [p.fixture, p] as const))(
    '%s becomes its typed event, which seals and opens to the same values',
    (_fixture, documented) => {
      const untyped: string[] = [];
      const event = eventOf(documentedPushBody(documented.fixture, format), format, untyped);
      expect(untyped).toEqual([]);
      expect(event.type).toBe(documented.type);
      expect(event.dataschema).toBe(eventCatalogue.get(documented.type)?.dataschema);
      const { appId: _a, openId: _o, accountId: _t, createTime: _c, fields: _f, ...typed } = event.data;
      expect(typed).toEqual(documented.data);
      expect(openedSchemaProblems(event.type, event.data)).toEqual([]);

      const key = { id: 'k1', key: randomBytes(32) };
      const sealed = sealEvent(event, key);
      expect(schemaProblems(sealed.type, sealed.data)).toEqual([]);
      const personal = personalPathsOf(sealed).filter((path) => !path.startsWith('fields.'));
      for (const path of personal) expect((sealed.data as Record<string, unknown>)[path]).toMatch(/^wxp1\./);
      expect(openEvent(sealed, key.key).event.data).toEqual(event.data);
    },
  );
});

describe('what is sealed and what is not', () => {
  const typedPathsOf = (fixture: string) => {
    const event = eventOf(documentedPushBody(fixture, 'xml'));
    return personalPathsOf(event).filter((path) => !path.startsWith('fields.'));
  };

  it('what a user sent, where they were and what they scanned is personal', () => {
    expect(typedPathsOf('location')).toEqual(['openId', 'latitude', 'longitude', 'scale', 'label']);
    expect(typedPathsOf('LOCATION')).toEqual(['openId', 'latitude', 'longitude', 'precision']);
    expect(typedPathsOf('voice')).toEqual(['openId', 'mediaId', 'mediaId16k', 'recognition']);
    expect(typedPathsOf('scancode_push')).toEqual(['openId', 'scanResult']);
    expect(typedPathsOf('pic_weixin')).toEqual(['openId', 'pictures']);
    expect(typedPathsOf('link')).toEqual(['openId', 'url', 'title', 'description']);
  });

  it("the account's own and a receipt's counts are not", () => {
    expect(typedPathsOf('MASSSENDJOBFINISH')).toEqual(['openId']);
    expect(typedPathsOf('subscribe_msg_popup_event')).toEqual(['openId']);
    expect(typedPathsOf('view_miniprogram')).toEqual(['openId']);
  });
});

describe('pushes without a declared type, or without their documented shape', () => {
  it('an undocumented event stays wechat.event.received, counted as undeclared', () => {
    const untyped: string[] = [];
    const event = eventOf(
      xmlPush('<MsgType>event</MsgType><Event>user_get_card</Event><CardId>c1</CardId>'),
      'xml',
      untyped,
    );
    expect(event).toMatchObject({ type: 'wechat.event.received', data: { event: 'user_get_card' } });
    expect(untyped).toEqual(['undeclared']);
  });

  it('an event named after an object property reaches no type', () => {
    const untyped: string[] = [];
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const event = eventOf(xmlPush(`<MsgType>event</MsgType><Event>${name}</Event>`), 'xml', untyped);
      expect(event.type).toBe('wechat.event.received');
    }
    const message = eventOf(xmlPush('<MsgType>constructor</MsgType>'), 'xml', untyped);
    expect(message.type).toBe('wechat.event.received');
    expect(untyped.every((expected) => expected === 'undeclared')).toBe(true);
  });

  it.each([
    [
      'LOCATION with a latitude that is no number',
      '<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>north</Latitude><Longitude>113.3</Longitude><Precision>10</Precision>',
      'wechat.location.reported',
    ],
    [
      'LOCATION beyond the globe',
      '<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.1</Latitude><Longitude>1130.3</Longitude><Precision>10</Precision>',
      'wechat.location.reported',
    ],
    [
      'LOCATION without its precision',
      '<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.1</Latitude><Longitude>113.3</Longitude>',
      'wechat.location.reported',
    ],
    [
      'an image without its MediaId',
      '<MsgType>image</MsgType><PicUrl>u</PicUrl><MsgId>1</MsgId>',
      'wechat.image.received',
    ],
    [
      'scancode_push without ScanCodeInfo',
      '<MsgType>event</MsgType><Event>scancode_push</Event><EventKey>k</EventKey>',
      'wechat.menu.code_scanned',
    ],
    [
      'a receipt whose MsgID is not a number',
      '<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>x1</MsgID><Status>success</Status>',
      'wechat.template.send_finished',
    ],
    [
      'a picture menu whose pictures are text',
      '<MsgType>event</MsgType><Event>pic_weixin</Event><SendPicsInfo><Count>1</Count><PicList>abc</PicList></SendPicsInfo>',
      'wechat.menu.pictures_sent',
    ],
  ])('%s is kept under its generic type and counted', (_what, inner, expected) => {
    const untyped: string[] = [];
    const event = eventOf(xmlPush(inner), 'xml', untyped);
    expect(['wechat.event.received', 'wechat.message.received']).toContain(event.type);
    expect(schemaProblems(event.type, event.data)).toEqual([]);
    expect(untyped).toEqual([expected]);
  });

  it('a text message has its declared type and is not counted', () => {
    const untyped: string[] = [];
    const event = eventOf(
      xmlPush('<MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId>'),
      'xml',
      untyped,
    );
    expect(event).toMatchObject({ type: 'wechat.message.received', data: { msgType: 'text', msgId: '42' } });
    expect(untyped).toEqual([]);
  });
});

describe('the shapes WeChat may send a list in', () => {
  it('a subscribe_msg event whose container is itself the list (JSON), and a single List element (XML)', () => {
    const asArray = eventOf(
      JSON.stringify({
        ToUserName: 'gh_abc',
        FromUserName: 'oUser1',
        CreateTime: 1700000000,
        MsgType: 'event',
        Event: 'subscribe_msg_change_event',
        SubscribeMsgChangeEvent: [{ TemplateId: 't1', SubscribeStatusString: 'reject' }],
      }),
      'json',
    );
    const single = eventOf(
      xmlPush(
        '<MsgType>event</MsgType><Event>subscribe_msg_change_event</Event><SubscribeMsgChangeEvent><List><TemplateId>t1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgChangeEvent>',
      ),
    );
    for (const event of [asArray, single])
      expect(event).toMatchObject({
        type: 'wechat.subscription.changed',
        data: { items: [{ templateId: 't1', status: 'reject' }] },
      });
  });

  it('several pictures are several entries, and none is an empty list', () => {
    const pictures = (inner: string) =>
      eventOf(xmlPush(`<MsgType>event</MsgType><Event>pic_sysphoto</Event><EventKey>k</EventKey>${inner}`));
    expect(
      pictures(
        '<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo>',
      ).data,
    ).toMatchObject({ count: 2, pictures: [{ md5: 'a' }, { md5: 'b' }] });
    expect(pictures('<SendPicsInfo><Count>0</Count><PicList></PicList></SendPicsInfo>').data).toMatchObject({
      count: 0,
      pictures: [],
    });
  });
});

describe('distinct subscription receipts stay distinct', () => {
  const sent = (msgId: string) =>
    xmlPush(
      `<MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List><TemplateId>t1</TemplateId><MsgID>${msgId}</MsgID><ErrorCode>0</ErrorCode><ErrorStatus>success</ErrorStatus></List></SubscribeMsgSentEvent>`,
    );

  it('two receipts for one user in one second differ by the MsgID in their items', () => {
    expect(eventOf(sent('1700827132819554304')).id).not.toBe(eventOf(sent('1700827132819554305')).id);
    expect(eventOf(sent('1700827132819554304')).id).toBe(eventOf(sent('1700827132819554304')).id);
  });
});
