import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { WechatValidationError } from './api-errors';
import { sameSecret } from './secret-comparison';

const FORMAT = 'v1';
const SALT = 'wxp wechat_access_tokens';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals access tokens for the store with AES-256-GCM, so that a dump or a backup of the store is
 * not a working WeChat credential. Each account's key is derived with HKDF-SHA256 from its
 * appSecret: a process that can store a token for an account already holds that secret, and
 * whoever holds it could ask WeChat for a token anyway, so no second secret has to be handed out.
 * The appId is bound in as associated data. A value that does not open (stored in clear by an
 * earlier version, sealed under a secret since replaced, altered) reads as no token at all.
 */
export class TokenSealer {
  private readonly keys = new Map<string, { secret: string; key: Buffer }>();

  constructor(private readonly secretOf: (appId: string) => string | undefined) {}

  seal(appId: string, token: string): string {
    const key = this.keyFor(appId);
    if (!key) throw new WechatValidationError([`no secret configured for appId ${appId}`]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(appId, 'utf8'));
    const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [FORMAT, iv, data, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The token, or undefined for anything that is not a value this account's key sealed. */
  open(appId: string, sealed: unknown): string | undefined {
    if (typeof sealed !== 'string') return undefined;
    const [format, iv, data, tag, ...rest] = sealed.split('.');
    if (format !== FORMAT || iv === undefined || data === undefined || tag === undefined || rest.length > 0)
      return undefined;
    const key = this.keyFor(appId);
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (!key || ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(appId, 'utf8'));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }

  /** Derived once per secret: a reloaded accounts file with a new secret gets a new key. */
  private keyFor(appId: string): Buffer | undefined {
    const secret = this.secretOf(appId);
    if (!secret) return undefined;
    const known = this.keys.get(appId);
    if (known && sameSecret(known.secret, secret)) return known.key;
    const key = Buffer.from(hkdfSync('sha256', secret, SALT, `access_token ${appId}`, 32));
    this.keys.set(appId, { secret, key });
    return key;
  }
}
