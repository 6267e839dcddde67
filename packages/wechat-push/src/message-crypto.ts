import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { wechatSignature } from './signature';

/**
 * WeChat's message encryption (safe and compatible modes): AES-256-CBC with the key from
 * EncodingAESKey, the IV its first 16 bytes, PKCS#7 padding to a multiple of 32 (not AES's 16), and
 * the plaintext laid out as 16 random bytes, a 4-byte big-endian length, the message, the appId.
 */
const BLOCK = 32;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

export function aesKeyOf(encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (encodingAESKey.length !== 43 || key.length !== 32) {
    throw new DecryptError('EncodingAESKey must be 43 base64 characters (32 bytes)');
  }
  return key;
}

function pad(data: Buffer): Buffer {
  const amount = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(amount, amount)]);
}

function unpad(data: Buffer): Buffer {
  const amount = data[data.length - 1] ?? 0;
  if (amount < 1 || amount > BLOCK || amount > data.length)
    throw new DecryptError(`bad padding value ${amount}`);
  for (let i = data.length - amount; i < data.length; i++) {
    if (data[i] !== amount) throw new DecryptError('padding bytes do not match');
  }
  return data.subarray(0, data.length - amount);
}

/** Returns the message inside `encrypted`; throws when it is not for `expectedAppId`. */
export function decryptMessage(encrypted: string, key: Buffer, expectedAppId: string): string {
  const ciphertext = Buffer.from(encrypted, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new DecryptError('ciphertext is not a whole number of AES blocks');
  }
  let plain: Buffer;
  try {
    // Node's own padding handling assumes 16-byte blocks; WeChat pads to 32.
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    plain = unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch (error) {
    if (error instanceof DecryptError) throw error;
    throw new DecryptError(`cannot decrypt: ${(error as Error).message}`);
  }
  if (plain.length < 20) throw new DecryptError('plaintext too short');
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new DecryptError('message length exceeds the plaintext');
  const message = plain.subarray(20, 20 + length).toString('utf8');
  const appId = plain.subarray(20 + length).toString('utf8');
  if (appId !== expectedAppId) throw new DecryptError(`ciphertext is for appId "${appId}", not this account`);
  return message;
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
