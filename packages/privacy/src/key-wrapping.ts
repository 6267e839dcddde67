import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { secureRandomBytes } from './random-pool';

/**
 * Data keys rest in the store wrapped (envelope encryption) under a key derived from PRIVACY_KEY,
 * bound to their id and user, so a wrapped key copied onto another user's record does not unwrap.
 */
export class KeyWrapper {
  private readonly wrappingKey: Buffer;

  constructor(privacyKey: string) {
    this.wrappingKey = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(privacyKey, 'utf8'),
        Buffer.from('wxp'),
        Buffer.from('wxp data-key wrapping v1'),
        32,
      ),
    );
  }

  wrap(dataKey: Buffer, keyId: string, pseudonym: string): string {
    const nonce = secureRandomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.wrappingKey, nonce);
    cipher.setAAD(Buffer.from(`${keyId}\n${pseudonym}`, 'utf8'));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return `${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  unwrap(wrapped: string, keyId: string, pseudonym: string): Buffer {
    const [nonceText, bodyText] = wrapped.split('.');
    const nonce = Buffer.from(nonceText ?? '', 'base64url');
    const body = Buffer.from(bodyText ?? '', 'base64url');
    if (nonce.length !== 12 || body.length !== 48)
      throw new KeyUnwrapError(`data key ${keyId} is not a wrapped key`);
    const decipher = createDecipheriv('aes-256-gcm', this.wrappingKey, nonce);
    decipher.setAAD(Buffer.from(`${keyId}\n${pseudonym}`, 'utf8'));
    decipher.setAuthTag(body.subarray(32));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, 32)), decipher.final()]);
    } catch {
      throw new KeyUnwrapError(`data key ${keyId} does not unwrap: was PRIVACY_KEY changed?`);
    }
  }
}

export class KeyUnwrapError extends Error {
  override readonly name = 'KeyUnwrapError';
}
