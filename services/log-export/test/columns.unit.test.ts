import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '@wxp/contracts';
import { openEvent, sealEvent, sealEventAsErased } from '@wxp/privacy';
import { canonicalEvent } from '../../../test/support/privacy';
import { columns, recordOf, rowOf as rowArrayOf, type Disclosure, type LogPosition } from '../src/columns';
import { ndjsonOf } from '../src/ndjson-writer';

const appId = 'wx-columns';
const openId = 'o-columns-secret-7d1e';
const key = { id: 'k-1', key: randomBytes(32) };
const position = { topic: 'wechat.events.v2', partition: 3, offset: 41, loggedAt: Date.UTC(2026, 10, 1, 8) };

function push(fields: Record<string, string>): CloudEvent {
  return canonicalEvent(appId, {
    ToUserName: 'gh_columns',
    FromUserName: openId,
    CreateTime: '1790000000',
    ...fields,
  }) as CloudEvent;
}

const text = push({ MsgType: 'text', Content: 'my phone is 138 0000 0000', MsgId: '24001' });
const scan = push({ MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_2024', Ticket: 'gQH47' });
const place = push({
  MsgType: 'event',
  Event: 'LOCATION',
  Latitude: '23.137466',
  Longitude: '113.352425',
  Precision: '119.385040',
});

const rowOf = (at: LogPosition, event: CloudEvent, disclosure: Disclosure) =>
  recordOf(rowArrayOf(at, event, disclosure));
const everything = (row: object) => JSON.stringify(row);

describe('rows of events', () => {
  it('keep the envelope, the position and what is in clear, and nothing personal of a sealed event', () => {
    const sealed = sealEvent(text, key);
    const row = rowOf(position, sealed, 'sealed');
    expect(row).toMatchObject({
      topic: 'wechat.events.v2',
      partition: 3,
      offset: 41,
      loggedAt: position.loggedAt,
      id: text.id,
      type: 'wechat.message.received',
      time: 1_790_000_000_000,
      appId,
      pseudonym: text.subject,
      openId: null,
      msgType: 'text',
      msgId: '24001',
      content: null,
    });
    expect(everything(row)).not.toContain('wxp1.');
    expect(everything(row)).not.toContain(openId);
    expect(Object.keys(row)).toEqual(columns.map((c) => c.name));
  });

  it('carry personal fields in clear once opened, typed', () => {
    const sealed = sealEvent(place, key);
    const row = rowOf(position, openEvent(sealed, key.key).event, 'opened');
    expect(row).toMatchObject({
      type: 'wechat.location.reported',
      openId,
      latitude: 23.137466,
      longitude: 113.352425,
      precision: 119.38504,
      event: 'LOCATION',
    });
    const message = sealEvent(text, key);
    expect(rowOf(position, openEvent(message, key.key).event, 'opened').content).toBe(
      'my phone is 138 0000 0000',
    );
  });

  it('keep the QR scene and ticket, which are the account’s', () => {
    const sealed = sealEvent(scan, key);
    expect(rowOf(position, sealed, 'sealed')).toMatchObject({
      type: 'wechat.user.subscribed',
      scene: '2024',
      sceneId: 2024,
      ticket: 'gQH47',
      eventKey: 'qrscene_2024',
      openId: null,
    });
  });

  it('of an erased user keep the pseudonym only, however they were written', () => {
    const sealed = sealEvent(text, key);
    const opened = openEvent(sealed, null);
    const row = rowOf(position, opened.event, 'erased');
    expect(row).toMatchObject({ pseudonym: text.subject, openId: null, content: null, msgType: 'text' });
    const written = sealEventAsErased(text);
    const late = rowOf(position, openEvent(written, null).event, 'erased');
    expect(late).toMatchObject({ openId: null, content: null });
    expect(everything(late)).not.toContain(openId);
  });

  it('never carry a sealed value, even where a column expects one in clear', () => {
    const sealed = sealEvent(scan, key);
    const data = sealed.data as { openId: string };
    const tampered = { ...sealed, data: { ...data, ticket: data.openId } };
    expect(rowOf(position, tampered, 'opened').ticket).toBeNull();
  });

  it('become NDJSON objects of their non-null columns, with ISO times, in column order', () => {
    const sealed = sealEvent(scan, key);
    const line = ndjsonOf([rowArrayOf(position, sealed, 'sealed')]).toString();
    expect(line.endsWith('}\n')).toBe(true);
    const json = JSON.parse(line) as Record<string, unknown>;
    const record = recordOf(rowArrayOf(position, sealed, 'sealed'));
    const present = columns.map((c) => c.name).filter((name) => record[name] !== null);
    expect(present).toContain('pseudonym');
    expect(present).not.toContain('openId');
    expect(Object.keys(json)).toEqual(present);
    expect(json).toEqual({
      ...Object.fromEntries(present.map((name) => [name, record[name]])),
      time: json.time,
      loggedAt: json.loggedAt,
    });
    expect(json.time).toBe(new Date(1_790_000_000_000).toISOString());
    expect(json.loggedAt).toBe('2026-11-01T08:00:00.000Z');
  });
});
