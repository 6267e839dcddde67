import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { wechatSignature } from './signature';

/**
 * WeChat's message encryption (safe and compatible modes): AES-256-CBC with the key from
 * EncodingAESKey, the IV its first 16 bytes, PKCS#7 padding to a multiple of 32 (not AES's 16), and
 * the plaintext laid out as 16 random bytes, a 4-byte big-endian length, the message, the appId.
 */
const BLOCK = 32;

/**
 * What a refusal was about. `key`: the configured EncodingAESKey. `ciphertext`: the shape of what was
 * sent (not base64, not whole blocks), which anyone can see without the key. `plaintext`: any check
 * made after decrypting (padding, length field, trailing appId). Those checks are deliberately not
 * told apart, here or anywhere they could be observed: which of them failed on a tampered ciphertext
 * says something about its plaintext.
 */
export type DecryptFailure = 'key' | 'ciphertext' | 'plaintext';

/** A refusal whose message never contains decrypted bytes. */
export class DecryptError extends Error {
  override readonly name = 'DecryptError';
  constructor(
    readonly failure: DecryptFailure,
    message: string,
  ) {
    super(message);
  }
}

export function aesKeyOf(encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (encodingAESKey.length !== 43 || key.length !== 32) {
    throw new DecryptError('key', 'EncodingAESKey must be 43 base64 characters (32 bytes)');
  }
  return key;
}

function pad(data: Buffer): Buffer {
  const amount = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(amount, amount)]);
}

const AES_BLOCK = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;

/** The message inside a decrypted plaintext, or undefined when any part of the layout is wrong. */
function messageOf(plain: Buffer, appId: Buffer): Buffer | undefined {
  const amount = plain[plain.length - 1] ?? 0;
  if (amount < 1 || amount > BLOCK) return undefined;
  const end = plain.length - amount;
  for (let i = end; i < plain.length; i++) {
    if (plain[i] !== amount) return undefined;
  }
  const start = RANDOM_BYTES + LENGTH_BYTES;
  if (end < start + appId.length) return undefined;
  const length = plain.readUInt32BE(RANDOM_BYTES);
  if (start + length + appId.length !== end) return undefined;
  if (!plain.subarray(start + length, end).equals(appId)) return undefined;
  return plain.subarray(start, start + length);
}

/** Returns the message inside `encrypted`; throws when it is not for `expectedAppId`. */
export function decryptMessage(encrypted: string, key: Buffer, expectedAppId: string): string {
  if (encrypted.length % 4 !== 0 || !BASE64.test(encrypted)) {
    throw new DecryptError('ciphertext', 'the ciphertext is not base64');
  }
  const ciphertext = Buffer.from(encrypted, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
    throw new DecryptError('ciphertext', 'the ciphertext is not a whole number of AES blocks');
  }
  let plain: Buffer;
  try {
    // Node's own padding handling assumes 16-byte blocks; WeChat pads to 32.
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new DecryptError('ciphertext', 'the ciphertext cannot be decrypted');
  }
  const message = messageOf(plain, Buffer.from(expectedAppId, 'utf8'));
  if (message === undefined) {
    throw new DecryptError('plaintext', 'the ciphertext is not a message for this account');
  }
  return message.toString('utf8');
}

export function encryptMessage(
  message: string,
  key: Buffer,
  appId: string,
  random = randomBytes(16),
): string {
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = pad(Buffer.concat([random, length, body, Buffer.from(appId, 'utf8')]));
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** An encrypted passive reply, as safe mode requires for replies that carry content. */
export function encryptedReplyXml(
  replyXml: string,
  account: { token: string; appId: string },
  key: Buffer,
  timestamp: string,
  nonce: string,
): string {
  const encrypted = encryptMessage(replyXml, key, account.appId);
  const signature = wechatSignature(account.token, timestamp, nonce, encrypted);
  return `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`;
}
