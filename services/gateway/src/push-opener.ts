import type { Account } from '@wxp/accounts';
import { MalformedPushError, parseJsonPush, parseXmlPush, type PushFields } from './push-parser';
import { signatureMatches, wechatSignature } from '@wxp/wechat-push';
import { DecryptError, decryptMessage, type DecryptFailure } from '@wxp/wechat-push';

/**
 * Why a push is refused: the HTTP status, the metric outcome and a reason for the answer and the log.
 * The reason is one of a fixed set and never quotes the request.
 */
export class PushRejection extends Error {
  override readonly name = 'PushRejection';
  constructor(
    readonly status: 400 | 401,
    readonly outcome: string,
    message: string,
    /** For `decrypt_failed`: which stage refused, for a metric label only. */
    readonly decryptFailure?: DecryptFailure,
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

/** A query whose signature and timestamp checked out. */
export interface VerifiedQuery {
  timestamp: string;
  nonce: string;
  msg_signature?: string | undefined;
}

export interface ServedAccount {
  account: Account;
  /** The AES key from EncodingAESKey, for safe and compatible mode. */
  aesKey: Buffer;
}

/** WeChat's nonces are short numbers; a longer one is nobody's, and would only fill memory. */
export const MAX_NONCE_LENGTH = 64;
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

function parseBody(account: Account, body: string): PushFields {
  return account.format === 'json' ? parseJsonPush(body) : parseXmlPush(body);
}

/** Checks `signature` (every mode) and the timestamp window; returns the verified timestamp and nonce. */
export function verifyQuery(
  account: Account,
  query: PushQuery,
  nowSeconds: number,
  maxSkewSeconds: number,
): VerifiedQuery {
  const { timestamp, nonce, signature } = query;
  if (!timestamp || !nonce || !signature) {
    throw new PushRejection(401, 'bad_signature', 'signature, timestamp and nonce are required');
  }
  if (!SHA1_HEX.test(signature)) {
    throw new PushRejection(401, 'bad_signature', 'signature must be 40 hex characters');
  }
  if (nonce.length > MAX_NONCE_LENGTH) {
    throw new PushRejection(401, 'bad_signature', `nonce is longer than ${MAX_NONCE_LENGTH} characters`);
  }
  if (!signatureMatches(wechatSignature(account.token, timestamp, nonce), signature)) {
    throw new PushRejection(401, 'bad_signature', 'signature does not match');
  }
  if (!TIMESTAMP.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > maxSkewSeconds) {
    throw new PushRejection(401, 'stale', `timestamp is outside the ${maxSkewSeconds} s window`);
  }
  return { timestamp, nonce, msg_signature: query.msg_signature };
}

/**
 * Returns a push's fields, decrypted where the account's mode says so; the query has been verified.
 * Plain mode takes the body as it is. Compatible and safe mode require `Encrypt` and a
 * `msg_signature` over it, and use the decrypted message, which must name this account's appId.
 * Every way decryption can fail gets the same answer: telling them apart would be an oracle on the
 * plaintext for anyone holding the token.
 */
export function openPush(served: ServedAccount, query: VerifiedQuery, body: string): PushFields {
  const { account, aesKey } = served;
  try {
    const outer = parseBody(account, body);
    if (account.encryptMode === 'plain') return outer;

    const encrypted = outer.Encrypt;
    if (typeof encrypted !== 'string' || encrypted.length === 0) {
      throw new PushRejection(400, 'not_encrypted', `${account.encryptMode} mode requires an Encrypt field`);
    }
    const { msg_signature: msgSignature } = query;
    if (typeof msgSignature !== 'string' || !SHA1_HEX.test(msgSignature)) {
      throw new PushRejection(401, 'bad_msg_signature', 'msg_signature must be 40 hex characters');
    }
    if (
      !signatureMatches(wechatSignature(account.token, query.timestamp, query.nonce, encrypted), msgSignature)
    ) {
      throw new PushRejection(401, 'bad_msg_signature', 'msg_signature does not match');
    }
    return parseBody(account, decryptMessage(encrypted, aesKey, account.appId));
  } catch (error) {
    if (error instanceof MalformedPushError) throw new PushRejection(400, 'malformed', error.message);
    if (error instanceof DecryptError) {
      throw new PushRejection(400, 'decrypt_failed', 'the message could not be decrypted', error.failure);
    }
    throw error;
  }
}
