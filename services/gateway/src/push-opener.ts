import type { Account } from '@wxp/accounts';
import { MalformedPushError, parseJsonPush, parseXmlPush, type PushFields } from './push-parser';
import { signatureMatches, wechatSignature } from '@wxp/wechat-push';
import { DecryptError, decryptMessage } from '@wxp/wechat-push';

/** Why a push is refused: the HTTP status, the metric outcome and a reason for the log. */
export class PushRejection extends Error {
  override readonly name = 'PushRejection';
  constructor(
    readonly status: 400 | 401,
    readonly outcome: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PushQuery {
  signature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
  msg_signature?: string | undefined;
}

export interface ServedAccount {
  account: Account;
  /** The AES key from EncodingAESKey, for safe and compatible mode. */
  aesKey: Buffer;
}

function parseBody(account: Account, body: string): PushFields {
  return account.format === 'json' ? parseJsonPush(body) : parseXmlPush(body);
}

/** Checks `signature` (every mode) and the timestamp window; returns the verified timestamp and nonce. */
export function verifyQuery(
  account: Account,
  query: PushQuery,
  nowSeconds: number,
  maxSkewSeconds: number,
): { timestamp: string; nonce: string } {
  const { timestamp, nonce, signature } = query;
  if (!timestamp || !nonce || !signature) {
    throw new PushRejection(401, 'bad_signature', 'signature, timestamp and nonce are required');
  }
  if (!signatureMatches(wechatSignature(account.token, timestamp, nonce), signature)) {
    throw new PushRejection(401, 'bad_signature', 'signature does not match');
  }
  if (!/^[0-9]{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > maxSkewSeconds) {
    throw new PushRejection(401, 'stale', `timestamp ${timestamp} is outside the ${maxSkewSeconds} s window`);
  }
  return { timestamp, nonce };
}

/**
 * Verifies a push and returns its fields, decrypted where the account's mode says so. Plain mode
 * takes the body as it is. Compatible and safe mode require `<Encrypt>` and a `msg_signature` over
 * it, and use the decrypted message, which must name this account's appId.
 */
export function openPush(
  served: ServedAccount,
  query: PushQuery,
  body: string,
  nowSeconds: number,
  maxSkewSeconds: number,
): PushFields {
  const { account, aesKey } = served;
  const { timestamp, nonce } = verifyQuery(account, query, nowSeconds, maxSkewSeconds);
  try {
    const outer = parseBody(account, body);
    if (account.encryptMode === 'plain') return outer;

    const encrypted = outer.Encrypt;
    if (typeof encrypted !== 'string' || encrypted.length === 0) {
      throw new PushRejection(400, 'not_encrypted', `${account.encryptMode} mode requires an Encrypt field`);
    }
    if (!signatureMatches(wechatSignature(account.token, timestamp, nonce, encrypted), query.msg_signature)) {
      throw new PushRejection(401, 'bad_msg_signature', 'msg_signature does not match');
    }
    return parseBody(account, decryptMessage(encrypted, aesKey, account.appId));
  } catch (error) {
    if (error instanceof MalformedPushError) throw new PushRejection(400, 'malformed', error.message);
    if (error instanceof DecryptError) throw new PushRejection(400, 'decrypt_failed', error.message);
    throw error;
  }
}
