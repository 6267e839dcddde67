import type { CloudEvent } from '@wxp/contracts';
import { toCanonicalEvent } from '../../gateway/src/canonical-event';
import { canonicalEvent, testPrivacyKey, testPseudonymOf } from '../../../test/support/privacy';
import {
  LegacyEventError,
  keyedId,
  migratedProfileEvent,
  migratedPushEvent,
  parseLegacy,
  unmappedCause,
} from '../src/legacy-events';

const appId = 'wx-legacy';

/** What the gateway wrote before pseudonyms: subject and id over the openId, schema version 1. */
function v1Of(fields: Record<string, unknown>): CloudEvent<string, Record<string, unknown>> {
  const event = toCanonicalEvent(appId, fields, (_appId, openId) => openId);
  return {
    ...event,
    dataschema: event.dataschema.replace(/:v2$/, ':v1'),
  } as unknown as CloudEvent<string, Record<string, unknown>>;
}

const pushes: Record<string, unknown>[] = [
  {
    ToUserName: 'gh_legacy',
    FromUserName: 'o-user-1',
    CreateTime: '1700000000',
    MsgType: 'event',
    Event: 'subscribe',
    EventKey: 'qrscene_42',
    Ticket: 'tkt',
  },
  {
    ToUserName: 'gh_legacy',
    FromUserName: 'o-user-1',
    CreateTime: '1700000001',
    MsgType: 'text',
    Content: 'hello',
    MsgId: '9007199254740993',
  },
  {
    ToUserName: 'gh_legacy',
    FromUserName: 'o-user-1',
    CreateTime: '1700000002',
    MsgType: 'event',
    Event: 'CLICK',
    EventKey: 'menu-a',
  },
  {
    ToUserName: 'gh_legacy',
    FromUserName: 'o-user-1',
    CreateTime: '1700000003',
    MsgType: 'event',
    Event: 'unsubscribe',
    EventKey: '',
  },
  {
    ToUserName: 'gh_legacy',
    FromUserName: 'o-user-1',
    CreateTime: '1700000004',
    MsgType: 'event',
    Event: 'TEMPLATESENDJOBFINISH',
  },
];

describe('a v1 push event migrated', () => {
  it.each(pushes.map((fields) => [fields.MsgType, fields.Event ?? '', fields]))(
    '(%s %s) is the event the gateway makes of the same push now: id and subject over the pseudonym',
    (_msgType, _event, fields) => {
      const v1 = v1Of(fields as Record<string, unknown>);
      const migrated = migratedPushEvent(v1, (a, o) => testPseudonymOf(a, o));
      expect(migrated).toEqual(canonicalEvent(appId, fields as Record<string, unknown>));
      expect(migrated.id).not.toBe(v1.id);
      expect(migrated.subject).toBe(testPseudonymOf(appId, 'o-user-1'));
    },
  );

  it('refuses what is not a push event without quoting it', () => {
    const v1 = v1Of(pushes[0]!);
    const broken = { ...v1, data: { ...v1.data, fields: { FromUserName: 'o-user-1' } } };
    expect(() => migratedPushEvent(broken, (a, o) => testPseudonymOf(a, o))).toThrow(LegacyEventError);
    expect(() => parseLegacy(Buffer.from('{"openId":"o-user-1"'))).toThrow(/^not JSON$/);
    try {
      migratedPushEvent(broken, (a, o) => testPseudonymOf(a, o));
    } catch (error) {
      expect((error as Error).message).not.toContain('o-user-1');
    }
  });
});

describe('a v1 profile event migrated', () => {
  it('answers the v2 event, with an id derived from it, and names the pseudonym', () => {
    const pseudonym = testPseudonymOf(appId, 'o-user-1');
    const v1 = {
      specversion: '1.0',
      id: 'v1-profile-id',
      source: `/wechat/${appId}`,
      type: 'wechat.profile.fetched',
      subject: 'o-user-1',
      time: '2024-01-01T00:00:00.000Z',
      datacontenttype: 'application/json',
      dataschema: 'urn:wxp:schema:wechat.profile.fetched:v1',
      causationid: 'v1-cause',
      data: { appId, openId: 'o-user-1', causedBy: 'v1-cause', at: 1, subscribe: 1, tags: [] },
    } as CloudEvent<string, Record<string, unknown>>;
    const migrated = migratedProfileEvent(v1, pseudonym, 'v2-cause');
    expect(migrated).toMatchObject({
      subject: pseudonym,
      causationid: 'v2-cause',
      dataschema: 'urn:wxp:schema:wechat.profile.fetched:v2',
      data: { causedBy: 'v2-cause', openId: 'o-user-1' },
    });
    expect(migrated.id).not.toBe(migratedProfileEvent(v1, pseudonym, 'another-cause').id);
  });

  it('keeps no openId in a cause that is not among the migrated events', () => {
    const pseudonym = testPseudonymOf(appId, 'o-user-1');
    expect(unmappedCause(testPrivacyKey, 'backfill:run-1:o-user-1', 'o-user-1', pseudonym)).toBe(
      `backfill:run-1:${pseudonym}`,
    );
    const hashed = unmappedCause(testPrivacyKey, 'some-v1-id', 'o-user-1', pseudonym);
    expect(hashed).toBe(`migrated:${keyedId(testPrivacyKey, 'some-v1-id')}`);
    expect(hashed).not.toContain('some-v1-id');
  });
});
