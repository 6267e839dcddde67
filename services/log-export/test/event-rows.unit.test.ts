import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '@wxp/contracts';
import { EventOpener, sealEvent, type DataKeyStore } from '@wxp/privacy';
import type { KafkaMessage } from 'kafkajs';
import { canonicalEvent } from '../../../test/support/privacy';
import { recordOf } from '../src/columns';
import { EventRows, candidatesOf } from '../src/event-rows';
import { pack, unpack } from '../src/worker-protocol';

const appId = 'wx-rows';
const key = { id: 'k-rows', key: randomBytes(32) };
const since = Date.UTC(2026, 10, 1);
const until = Date.UTC(2026, 10, 2);

function sealedPush(app: string, fields: Record<string, string>): CloudEvent {
  const event = canonicalEvent(app, {
    ToUserName: 'gh_rows',
    FromUserName: 'o-rows-user',
    CreateTime: '1790000000',
    ...fields,
  }) as CloudEvent;
  return sealEvent(event, key);
}

function message(offset: number, loggedAt: number, event: CloudEvent | string): KafkaMessage {
  const value = Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
  const headers = typeof event === 'string' ? {} : { ce_type: Buffer.from(event.type) };
  return { offset: String(offset), timestamp: String(loggedAt), value, headers } as unknown as KafkaMessage;
}

const click = sealedPush(appId, { MsgType: 'event', Event: 'CLICK', EventKey: 'MENU_A' });
const text = sealedPush(appId, { MsgType: 'text', Content: 'hello', MsgId: '1' });
const elsewhere = sealedPush('wx-other', { MsgType: 'event', Event: 'CLICK', EventKey: 'MENU_A' });

describe('rows of a batch', () => {
  const batch = [
    message(10, since - 1, click),
    message(11, since, click),
    message(12, since + 5, text),
    message(13, since + 6, elsewhere),
    message(14, since + 7, `{"not":"an event","appId":"${appId}"}`),
    message(15, until, click),
  ];

  it('keep, without parsing, what is in the window, of the asked types and names the account', () => {
    const filter = { appId, since, until, types: [] };
    expect(candidatesOf(batch, filter).map((c) => c.offset)).toEqual([11, 12, 14]);
    const clicks = { ...filter, types: ['wechat.menu.clicked'] };
    expect(candidatesOf(batch, clicks).map((c) => c.offset)).toEqual([11, 14]);
  });

  it('go to the row worker and back unchanged', () => {
    const candidates = candidatesOf(batch, { appId, since, until, types: [] });
    const unpacked = unpack(pack('wechat.events.v2', 3, candidates));
    expect(unpacked.map((c) => [c.offset, c.loggedAt, Buffer.from(c.value).toString()])).toEqual(
      candidates.map((c) => [c.offset, c.loggedAt, Buffer.from(c.value).toString()]),
    );
  });

  it('are made of the account’s events only, counting what is not an event', async () => {
    const maker = new EventRows({ appId, since, until, types: ['wechat.menu.clicked'] });
    const rows = await maker.rowsOf(
      'wechat.events.v2',
      3,
      candidatesOf(batch, { appId, since, until, types: [] }),
    );
    expect(rows.map(recordOf).map((r) => [r.offset, r.type, r.menuKey, r.openId])).toEqual([
      [11, 'wechat.menu.clicked', 'MENU_A', null],
    ]);
    expect(maker.counts).toEqual({ rows: 1, erased: 0, unreadable: 1 });
  });

  it('with an opener, carry what a column takes in clear', async () => {
    const keys = { keysByIds: async () => new Map([[key.id, key.key]]), forget: () => undefined };
    const opener = new EventOpener(keys as unknown as DataKeyStore, { openOnRead: true });
    const maker = new EventRows({ appId, since, until, types: [] }, opener);
    const rows = await maker.rowsOf(
      'wechat.events.v2',
      3,
      candidatesOf(batch, { appId, since, until, types: [] }),
    );
    expect(rows.map(recordOf).map((r) => [r.offset, r.openId, r.content])).toEqual([
      [11, 'o-rows-user', null],
      [12, 'o-rows-user', 'hello'],
    ]);
  });
});
