import { schemaProblems } from '@wxp/contracts';
import { partitionKeyOf, toCanonicalEvent } from '../src/canonical-event';
import { MalformedPushError, parseXmlPush } from '../src/push-parser';
import { testPseudonymOf } from '../../../test/support/privacy';

const appId = 'wxapp';

function push(inner: string): string {
  return `<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1700000000</CreateTime>${inner}</xml>`;
}

const pseudonym = testPseudonymOf(appId, 'oUser1');

function eventOf(inner: string, pseudonymOf = testPseudonymOf) {
  const event = toCanonicalEvent(appId, parseXmlPush(push(inner)), (a, o) => pseudonymOf(a, o));
  expect(schemaProblems(event.type, event.data)).toEqual([]);
  return event;
}

describe('canonical events', () => {
  it('a plain follow', () => {
    const event = eventOf('<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>');
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'wechat.user.subscribed',
      source: '/wechat/wxapp',
      subject: pseudonym,
      time: '2023-11-14T22:13:20.000Z',
      datacontenttype: 'application/json',
      dataschema: 'urn:wxp:schema:wechat.user.subscribed:v2',
      data: { appId, openId: 'oUser1', accountId: 'gh_abc', createTime: 1700000000 },
    });
    expect(event.data).not.toHaveProperty('scene');
    expect(partitionKeyOf(event)).toBe(pseudonym);
    expect(pseudonym).not.toContain('oUser1');
  });

  it('a follow through a QR code carries scene and ticket', () => {
    const numeric = eventOf(
      '<MsgType>event</MsgType><Event>subscribe</Event><EventKey><![CDATA[qrscene_4294967295]]></EventKey><Ticket><![CDATA[TK]]></Ticket>',
    );
    expect(numeric.data).toMatchObject({ scene: '4294967295', sceneId: 4294967295, ticket: 'TK' });
    const text = eventOf(
      '<MsgType>event</MsgType><Event>subscribe</Event><EventKey><![CDATA[qrscene_spring-sale]]></EventKey><Ticket>T</Ticket>',
    );
    expect(text.data).toMatchObject({ scene: 'spring-sale', ticket: 'T' });
    expect(text.data).not.toHaveProperty('sceneId');
  });

  it('a scan by a follower, a menu click and a menu link', () => {
    expect(
      eventOf('<MsgType>event</MsgType><Event>SCAN</Event><EventKey>123</EventKey><Ticket>T</Ticket>'),
    ).toMatchObject({
      type: 'wechat.qrcode.scanned',
      data: { scene: '123', sceneId: 123, ticket: 'T' },
    });
    expect(
      eventOf('<MsgType>event</MsgType><Event>CLICK</Event><EventKey>V1001_GOOD</EventKey>'),
    ).toMatchObject({
      type: 'wechat.menu.clicked',
      data: { key: 'V1001_GOOD' },
    });
    expect(
      eventOf(
        '<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://x.test/a?b=1</EventKey><MenuId>208396938</MenuId>',
      ),
    ).toMatchObject({
      type: 'wechat.menu.viewed',
      data: { url: 'https://x.test/a?b=1', menuId: '208396938' },
    });
  });

  it('two job receipts for one user in one second stay two events: their MsgID tells them apart', () => {
    const receipt = (msgId: string) =>
      eventOf(
        `<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>${msgId}</MsgID><Status>success</Status>`,
      );
    expect(receipt('200163836').id).not.toBe(receipt('200163840').id);
    expect(receipt('200163836').id).toBe(receipt('200163836').id);
    const mass = (msgId: string) =>
      eventOf(`<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>${msgId}</MsgID>`);
    expect(mass('1000001625').id).not.toBe(mass('1000001626').id);
  });

  it('an unfollow', () => {
    expect(eventOf('<MsgType>event</MsgType><Event>unsubscribe</Event>').type).toBe(
      'wechat.user.unsubscribed',
    );
  });

  it('a text message keeps its 64-bit MsgId exactly and its content untrimmed', () => {
    const event = eventOf(
      '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[  hello <b> ]]></Content><MsgId>6972028683187026694</MsgId>',
    );
    expect(event).toMatchObject({
      type: 'wechat.message.received',
      data: { msgType: 'text', msgId: '6972028683187026694' },
    });
    expect(event.data.fields).toMatchObject({ Content: '  hello <b> ', MsgId: '6972028683187026694' });
  });

  it('an event without a type of its own is kept whole, nested structure included', () => {
    const event = eventOf(
      '<MsgType>event</MsgType><Event>shakearoundusershake</Event><ChosenBeacon><Uuid>u</Uuid><Major>1</Major></ChosenBeacon>',
    );
    expect(event).toMatchObject({
      type: 'wechat.event.received',
      data: { event: 'shakearoundusershake', msgType: 'event' },
    });
    expect(event.data.fields).toMatchObject({ ChosenBeacon: { Uuid: 'u', Major: '1' } });
  });

  it('a SCAN without a scene is kept rather than dropped', () => {
    expect(eventOf('<MsgType>event</MsgType><Event>SCAN</Event>').type).toBe('wechat.event.received');
  });

  it('field names are made safe for MongoDB', () => {
    const event = eventOf('<MsgType>event</MsgType><Event>X</Event><a.b>1</a.b>');
    expect(event.data.fields).toHaveProperty('a_b', '1');
  });

  it('the same push always gives the same event id', () => {
    const inner = '<MsgType>event</MsgType><Event>CLICK</Event><EventKey>K</EventKey>';
    expect(eventOf(inner).id).toBe(eventOf(inner).id);
    expect(eventOf(inner).id).not.toBe(
      eventOf('<MsgType>event</MsgType><Event>CLICK</Event><EventKey>L</EventKey>').id,
    );
  });

  it('the event id is computed over the keyed pseudonym, so an openId cannot be checked against it', () => {
    const inner = '<MsgType>event</MsgType><Event>CLICK</Event><EventKey>K</EventKey>';
    const otherKey = (a: string, o: string) => testPseudonymOf(a, o, 'another-privacy-key-0123456789');
    expect(eventOf(inner, otherKey).id).not.toBe(eventOf(inner).id);
    expect(eventOf(inner, otherKey).subject).not.toBe(pseudonym);
  });
});

describe('malformed pushes', () => {
  it.each([
    ['not XML', 'hello'],
    ['wrong root', '<msg><a>1</a></msg>'],
    [
      'missing FromUserName',
      '<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>',
    ],
    ['a DTD', '<!DOCTYPE xml [<!ENTITY a "b">]><xml><ToUserName>&a;</ToUserName></xml>'],
    ['CreateTime not a number', push('<MsgType>text</MsgType>').replace('1700000000', 'soon')],
    ['unclosed tag', '<xml><ToUserName>a</xml>'],
  ])('%s is refused', (_what, body) => {
    expect(() => toCanonicalEvent(appId, parseXmlPush(body), testPseudonymOf)).toThrow(MalformedPushError);
  });
});
