import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secureRandomBytes } from './random-pool';

/**
 * One personal value as it travels: `wxp1.<nonce>.<ciphertext and tag>`, base64url, AES-256-GCM
 * under the user's data key. The associated data ties it to its user, event and field, so a sealed
 * value copied to another user's event or another field does not open.
 */
const PREFIX = 'wxp1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** What a personal field holds when it was written after its user's key had gone. */
export const ERASED_VALUE = 'wxp1.erased';

export function isSealedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function sealValue(key: Buffer, associated: string, value: unknown): string {
  const nonce = secureRandomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associated, 'utf8'));
  const body = Buffer.concat([
    cipher.update(JSON.stringify(value), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `${PREFIX}${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
}

/** Opens a sealed value; a value that was tampered with, moved or sealed under another key throws. */
export function openValue(key: Buffer, associated: string, sealed: string): unknown {
  if (!sealed.startsWith(PREFIX)) throw new SealedValueError('not a sealed value');
  const [nonceText, bodyText, extra] = sealed.slice(PREFIX.length).split('.');
  if (nonceText === undefined || bodyText === undefined || extra !== undefined)
    throw new SealedValueError('malformed sealed value');
  const nonce = Buffer.from(nonceText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES)
    throw new SealedValueError('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(associated, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealedValueError('sealed value does not open under this key and place');
  }
  return JSON.parse(plain.toString('utf8')) as unknown;
}
