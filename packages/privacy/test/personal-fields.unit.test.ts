import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '@wxp/contracts';
import {
  ERASED_VALUE,
  openEvent,
  openEventOnRead,
  pseudonymOf,
  sealEvent,
  sealEventAsErased,
  SealedValueError,
  UnsealableEventError,
} from '../src';

const secret = 'personal-fields-test-secret';
const pseudonym = pseudonymOf(secret, 'wx1', 'oUser-Secret-1');
const key = { id: 'key-1', key: randomBytes(32) };

function textMessage(overrides: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: 'event-1',
    source: '/wechat/wx1',
    type: 'wechat.message.received',
    subject: pseudonym,
    time: '2026-12-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    dataschema: 'urn:wxp:schema:wechat.message.received:v2',
    data: {
      appId: 'wx1',
      openId: 'oUser-Secret-1',
      accountId: 'gh_account',
      createTime: 1_764_547_200,
      msgType: 'location',
      fields: {
        ToUserName: 'gh_account',
        FromUserName: 'oUser-Secret-1',
        CreateTime: '1764547200',
        MsgType: 'location',
        Location_X: '23.134521',
        Location_Y: '113.358803',
        Label: 'Secret Street 1',
        MsgId: '1234567890',
        Nested: { Inner: 'secret inner' },
      },
    },
    ...overrides,
  };
}

describe('sealing an event', () => {
  it('leaves nothing personal in clear, keeps what analytics need, and opens back to the original', () => {
    const event = textMessage();
    const sealed = sealEvent(event, key);
    const text = JSON.stringify(sealed);
    for (const secretText of ['oUser-Secret-1', '23.134521', '113.358803', 'Secret Street', 'secret inner'])
      expect(text).not.toContain(secretText);
    expect(sealed.datakeyid).toBe('key-1');
    const fields = (sealed.data as { fields: Record<string, unknown> }).fields;
    expect(fields).toMatchObject({
      ToUserName: 'gh_account',
      CreateTime: '1764547200',
      MsgType: 'location',
      MsgId: '1234567890',
    });
    expect(sealed.data).toMatchObject({ appId: 'wx1', msgType: 'location', accountId: 'gh_account' });
    expect(openEvent(sealed, key.key)).toEqual({ event: { ...event, datakeyid: 'key-1' }, erased: false });
  });

  it('reads as erased, with no personal field, once the key is gone', () => {
    const opened = openEvent(sealEvent(textMessage(), key), null);
    expect(opened.erased).toBe(true);
    const data = opened.event.data as { openId: string; fields: Record<string, unknown> };
    expect(data.openId).toBe('');
    expect(Object.keys(data.fields).sort()).toEqual(['CreateTime', 'MsgId', 'MsgType', 'ToUserName']);
  });

  it('writes an event of an already erased user with the erased mark only, which reads as erased', () => {
    const sealed = sealEventAsErased(textMessage());
    expect(JSON.stringify(sealed)).not.toContain('oUser-Secret-1');
    expect((sealed.data as { openId: string }).openId).toBe(ERASED_VALUE);
    expect(openEvent(sealed, key.key).erased).toBe(true);
  });

  it('refuses a sealed value moved to another field, another event or another user', () => {
    const sealed = sealEvent(textMessage(), key);
    const data = sealed.data as { openId: string; fields: Record<string, string> };
    const movedField = {
      ...sealed,
      data: { ...data, fields: { ...data.fields, Label: data.fields.Location_X } },
    };
    expect(() => openEvent(movedField, key.key)).toThrow(SealedValueError);
    expect(() => openEvent({ ...sealed, id: 'event-2' }, key.key)).toThrow(SealedValueError);
    expect(() => openEvent({ ...sealed, subject: pseudonymOf(secret, 'wx1', 'other') }, key.key)).toThrow(
      SealedValueError,
    );
    expect(() => openEvent(sealed, randomBytes(32))).toThrow(SealedValueError);
  });

  it('refuses a personal field that is not sealed, and an event without a pseudonym', () => {
    expect(() => openEvent(textMessage(), key.key)).toThrow(UnsealableEventError);
    const { subject: _none, ...withoutSubject } = textMessage();
    expect(() => sealEvent(withoutSubject as CloudEvent, key)).toThrow(UnsealableEventError);
  });

  it('leaves events without personal data as they are', () => {
    const erased: CloudEvent = {
      ...textMessage(),
      type: 'wechat.user.erased',
      data: { appId: 'wx1', requestedAt: 1 },
    };
    expect(sealEvent(erased, key)).toBe(erased);
    expect(openEvent(erased, null)).toEqual({ event: erased, erased: false });
  });

  it('seals the unionId and remark of a profile', () => {
    const profile: CloudEvent = {
      ...textMessage(),
      type: 'wechat.profile.fetched',
      data: {
        appId: 'wx1',
        openId: 'oUser-Secret-1',
        unionId: 'uSecretUnion',
        remark: 'VIP Secret',
        causedBy: 'e',
        at: 1,
        subscribe: 1,
        tags: [2],
      },
    };
    const sealed = sealEvent(profile, key);
    expect(JSON.stringify(sealed)).not.toMatch(/oUser-Secret-1|uSecretUnion|VIP Secret/);
    expect(openEvent(sealed, key.key).event).toEqual({ ...profile, datakeyid: 'key-1' });
  });
});

describe('opening an event when its fields are read', () => {
  it('reads the same values as opening it at once, and decrypts only the fields that are read', () => {
    const event = textMessage();
    const sealed = sealEvent(event, key);
    const decryptions: number[] = [];
    const opened = openEventOnRead(sealed, key.key, (seconds) => decryptions.push(seconds));
    expect(opened.erased).toBe(false);
    const data = opened.event.data as { openId: string; fields: Record<string, unknown> };
    expect(data.openId).toBe('oUser-Secret-1');
    expect(data.openId).toBe('oUser-Secret-1');
    expect(decryptions).toHaveLength(1);
    expect(data.fields.MsgType).toBe('location');
    expect(decryptions).toHaveLength(1);
    expect(opened).toEqual(openEvent(sealed, key.key));
    expect(decryptions).toHaveLength(6);
    expect(decryptions.every((seconds) => seconds > 0)).toBe(true);
    // The sealed event itself is left as it was.
    expect(JSON.stringify(sealed)).not.toContain('oUser-Secret-1');
  });

  it('throws where a value that was moved or forged is read, and not before', () => {
    const sealed = sealEvent(textMessage(), key);
    const data = sealed.data as { openId: string; fields: Record<string, string> };
    const movedField = {
      ...sealed,
      data: { ...data, fields: { ...data.fields, Label: data.fields.Location_X } },
    };
    const opened = openEventOnRead(movedField, key.key).event.data as typeof data;
    expect(opened.openId).toBe('oUser-Secret-1');
    expect(() => opened.fields.Label).toThrow(SealedValueError);
    expect(() => JSON.stringify(openEventOnRead(sealed, randomBytes(32)).event)).toThrow(SealedValueError);
  });

  it('refuses a personal field in clear at once, and reads an erased user as erased', () => {
    expect(() => openEventOnRead(textMessage(), key.key)).toThrow(UnsealableEventError);
    const erased = openEventOnRead(sealEvent(textMessage(), key), null);
    expect(erased).toEqual(openEvent(sealEvent(textMessage(), key), null));
    expect(erased.erased).toBe(true);
  });

  it('lets a handler overwrite a field before reading it', () => {
    const opened = openEventOnRead(sealEvent(textMessage(), key), randomBytes(32));
    const data = opened.event.data as { openId: string };
    data.openId = 'replaced';
    expect(data.openId).toBe('replaced');
  });
});

describe('pseudonyms', () => {
  it('are stable per account and user, differ across accounts and secrets, and hide the openId', () => {
    expect(pseudonymOf(secret, 'wx1', 'o1')).toBe(pseudonymOf(secret, 'wx1', 'o1'));
    expect(pseudonymOf(secret, 'wx2', 'o1')).not.toBe(pseudonymOf(secret, 'wx1', 'o1'));
    expect(pseudonymOf('another-secret-value', 'wx1', 'o1')).not.toBe(pseudonymOf(secret, 'wx1', 'o1'));
    expect(Buffer.from(pseudonymOf(secret, 'wx1', 'o1'), 'base64url')).toHaveLength(32);
  });
});
