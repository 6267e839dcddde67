import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  DecryptError,
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  encryptedReplyXml,
} from '../src/message-crypto';
import { wechatSignature } from '../src/signature';

// Vectors come from `openssl enc` with padding off, laid out and padded by hand here, so the
// decryption is checked against an implementation other than our own encryptMessage.
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const key = aesKeyOf(encodingAESKey);
const appId = 'wx1234567890abcdef';

function opensslEncrypt(plain: Buffer): string {
  return execFileSync(
    'openssl',
    ['enc', '-aes-256-cbc', '-nopad', '-K', key.toString('hex'), '-iv', key.subarray(0, 16).toString('hex')],
    { input: plain },
  ).toString('base64');
}

function opensslDecrypt(base64: string): Buffer {
  return execFileSync(
    'openssl',
    [
      'enc',
      '-d',
      '-aes-256-cbc',
      '-nopad',
      '-K',
      key.toString('hex'),
      '-iv',
      key.subarray(0, 16).toString('hex'),
    ],
    { input: Buffer.from(base64, 'base64') },
  );
}

function wechatPlaintext(message: string, forAppId = appId, padValue?: number): Buffer {
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const unpadded = Buffer.concat([randomBytes(16), length, body, Buffer.from(forAppId)]);
  const amount = padValue ?? 32 - (unpadded.length % 32);
  return Buffer.concat([unpadded, Buffer.alloc(amount, amount)]);
}

function refusalOf(decrypt: () => unknown): DecryptError {
  try {
    decrypt();
  } catch (error) {
    if (error instanceof DecryptError) return error;
    throw error;
  }
  throw new Error('decrypted');
}

describe('WeChat message crypto', () => {
  it('derives the 32-byte key from the 43-character EncodingAESKey', () => {
    expect(key).toHaveLength(32);
    expect(() => aesKeyOf('short')).toThrow(DecryptError);
  });

  it.each(Array.from({ length: 32 }, (_, i) => i + 1))(
    'decrypts an openssl vector padded with %i',
    (padValue) => {
      // 16 + 4 + appId (18) = 38 bytes of overhead; choose the message length that needs this pad value.
      const overhead = 16 + 4 + Buffer.byteLength(appId);
      const messageLength = (((32 - padValue - overhead) % 32) + 32) % 32 || 32;
      const message = 'x'.repeat(messageLength);
      const plain = wechatPlaintext(message);
      expect(plain[plain.length - 1]).toBe(padValue);
      expect(decryptMessage(opensslEncrypt(plain), key, appId)).toBe(message);
    },
  );

  it('keeps multi-byte text intact', () => {
    const message = '<xml><Content><![CDATA[你好，世界 🎉]]></Content></xml>';
    expect(decryptMessage(opensslEncrypt(wechatPlaintext(message)), key, appId)).toBe(message);
  });

  it('encrypts so that openssl reads back the WeChat layout', () => {
    const message = '<xml><ToUserName>gh_x</ToUserName></xml>';
    const plain = opensslDecrypt(encryptMessage(message, key, appId));
    expect(plain.length % 32).toBe(0);
    const padValue = plain[plain.length - 1] ?? 0;
    const unpadded = plain.subarray(0, plain.length - padValue);
    expect(unpadded.readUInt32BE(16)).toBe(Buffer.byteLength(message));
    expect(unpadded.subarray(20, 20 + Buffer.byteLength(message)).toString()).toBe(message);
    expect(unpadded.subarray(20 + Buffer.byteLength(message)).toString()).toBe(appId);
  });

  it('refuses a ciphertext made for another appId, without naming it', () => {
    const refusal = refusalOf(() =>
      decryptMessage(opensslEncrypt(wechatPlaintext('<xml/>', 'wxsomeoneelse')), key, appId),
    );
    expect(refusal.failure).toBe('plaintext');
    expect(refusal.message).not.toMatch(/wxsomeoneelse/);
  });

  it('says nothing of the plaintext when a tampered length field makes the whole message the "appId"', () => {
    const message = '<xml><FromUserName><![CDATA[oSecretUser]]></FromUserName></xml>';
    const ciphertext = Buffer.from(opensslEncrypt(wechatPlaintext(message)), 'base64');
    // CBC: flipping bits of the first ciphertext block flips the same bits of the second plaintext
    // block, whose first four bytes are the length; XOR with the known length makes it read 0.
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(message));
    for (let i = 0; i < 4; i++) ciphertext[i] = (ciphertext[i] ?? 0) ^ (length[i] ?? 0);
    const refusal = refusalOf(() => decryptMessage(ciphertext.toString('base64'), key, appId));
    expect(refusal.failure).toBe('plaintext');
    expect(refusal.message).not.toMatch(/oSecretUser|xml|FromUserName/);
  });

  it('refuses every check after decryption with one and the same message', () => {
    const tampered = [
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain[plain.length - 1] = 0;
        return opensslEncrypt(plain);
      },
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain.writeUInt32BE(9999, 16);
        return opensslEncrypt(plain);
      },
      () => opensslEncrypt(wechatPlaintext('<xml/>', 'wxsomeoneelse')),
    ].map((make) => refusalOf(() => decryptMessage(make(), key, appId)));
    expect(new Set(tampered.map((r) => `${r.failure} ${r.message}`)).size).toBe(1);
  });

  it.each([
    [
      'a pad value of 0',
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain[plain.length - 1] = 0;
        return opensslEncrypt(plain);
      },
    ],
    [
      'a pad value over 32',
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain[plain.length - 1] = 33;
        return opensslEncrypt(plain);
      },
    ],
    [
      'inconsistent pad bytes',
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain[plain.length - 2] = 0x7f;
        return opensslEncrypt(plain);
      },
    ],
    ['a partial block', () => Buffer.alloc(20).toString('base64')],
    ['text that is not base64', () => `${opensslEncrypt(wechatPlaintext('<xml/>'))}!`],
    ['nothing', () => ''],
    [
      'a length beyond the data',
      () => {
        const plain = wechatPlaintext('<xml/>');
        plain.writeUInt32BE(9999, 16);
        return opensslEncrypt(plain);
      },
    ],
  ])('refuses %s', (_what, make) => {
    expect(() => decryptMessage(make(), key, appId)).toThrow(DecryptError);
  });

  it('signs encrypted replies with msg_signature over token, timestamp, nonce and Encrypt', () => {
    const xml = encryptedReplyXml(
      '<xml><Content>hi</Content></xml>',
      { token: 'tok', appId },
      key,
      '1700000000',
      'n1',
    );
    const encrypted = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(xml)?.[1] ?? '';
    expect(xml).toContain(
      `<MsgSignature><![CDATA[${wechatSignature('tok', '1700000000', 'n1', encrypted)}]]>`,
    );
    expect(decryptMessage(encrypted, key, appId)).toBe('<xml><Content>hi</Content></xml>');
  });
});
