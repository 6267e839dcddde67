import { createHash } from 'node:crypto';
import type { Account } from '@wxp/accounts';
import { aesKeyOf, decryptMessage } from '@wxp/wechat-push';
import { XMLParser } from 'fast-xml-parser';

/** What WeChat makes of a 200 answer to a push. */
export type AnswerReading =
  /** `success` or nothing: received, no reply. */
  | { kind: 'none' }
  /** A reply the user sees: its fields, decrypted where the mode encrypts them. */
  | { kind: 'reply'; message: Record<string, unknown> }
  /** Anything else: the user sees "该公众号暂时无法提供服务，请稍后再试". */
  | { kind: 'invalid'; reason: string };

const parser = new XMLParser({ parseTagValue: false, processEntities: false });

function xmlRoot(text: string): Record<string, unknown> | undefined {
  try {
    const root = (parser.parse(text) as { xml?: unknown }).xml;
    return root !== null && typeof root === 'object' && !Array.isArray(root)
      ? (root as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const sha1 = (...parts: string[]) =>
  createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');

/**
 * Reads an answer as WeChat does: in compat and safe mode the reply must carry a MsgSignature over
 * the token, its TimeStamp, Nonce and Encrypt, and decrypt to a message for the account; then it
 * must go to the user who pushed, from the account, with a MsgType.
 */
export function readAnswer(account: Account, openId: string, body: string): AnswerReading {
  if (body === '' || body === 'success') return { kind: 'none' };
  let message = xmlRoot(body);
  if (!message) return { kind: 'invalid', reason: 'not a reply XML' };
  if (account.encryptMode !== 'plain') {
    const { Encrypt, MsgSignature, TimeStamp, Nonce } = message;
    if ([Encrypt, MsgSignature, TimeStamp, Nonce].some((v) => typeof v !== 'string'))
      return {
        kind: 'invalid',
        reason: 'an encrypted reply needs Encrypt, MsgSignature, TimeStamp and Nonce',
      };
    if (sha1(account.token, TimeStamp as string, Nonce as string, Encrypt as string) !== MsgSignature)
      return { kind: 'invalid', reason: 'MsgSignature does not match' };
    try {
      message = xmlRoot(decryptMessage(Encrypt as string, aesKeyOf(account.encodingAESKey), account.appId));
    } catch {
      return { kind: 'invalid', reason: 'Encrypt does not decrypt to a message for this account' };
    }
    if (!message) return { kind: 'invalid', reason: 'the decrypted reply is not XML' };
  }
  if (message.ToUserName !== openId)
    return { kind: 'invalid', reason: 'the reply is not to the user who pushed' };
  if (account.originalId && message.FromUserName !== account.originalId)
    return { kind: 'invalid', reason: "the reply is not from the account's original id" };
  if (typeof message.MsgType !== 'string' || message.MsgType === '')
    return { kind: 'invalid', reason: 'the reply has no MsgType' };
  return { kind: 'reply', message };
}
