import type { Account } from '@wxp/accounts';
import { aesKeyOf, encryptMessage, pushXml, wechatSignature } from '@wxp/wechat-push';
import { followFields, wirePush, type WirePush } from '../push-corpus';

/** The kinds of bad request a public push endpoint meets, each with the answer class it must get. */
/** The user the `i`th hostile push claims to come from. */
export function hostileOpenId(i: number): string {
  return `oHostileBad${i}`;
}

export const HOSTILE_KINDS = [
  'truncated XML',
  'DOCTYPE with entities',
  'forged msg_signature',
  'no signature',
  'signature with another token',
  'oversized (70 KB)',
  'replayed (signed an hour ago)',
  'ciphertext of another app',
  'ciphertext not base64',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

function signedQuery(
  account: Account,
  timestamp: number,
  nonce: string,
  encrypted: string,
  token = account.token,
) {
  return new URLSearchParams({
    signature: wechatSignature(token, String(timestamp), nonce),
    timestamp: String(timestamp),
    nonce,
    encrypt_type: 'aes',
    msg_signature: wechatSignature(token, String(timestamp), nonce, encrypted),
  }).toString();
}

function encryptedBody(account: Account, encrypted: string): string {
  return `<xml><ToUserName><![CDATA[${account.originalId ?? ''}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
}

/** The i-th bad request of a safe-mode account: built when sent, so 100,000 of them cost no memory here. */
export function hostilePush(account: Account, kind: HostileKind, i: number): WirePush {
  const now = Math.floor(Date.now() / 1000);
  const openId = hostileOpenId(i);
  const fields = followFields(account, openId, now);
  const path = `/wechat/${account.appId}`;
  const nonce = String(100000 + i);
  const sealed = (plain: string, appId = account.appId) =>
    encryptMessage(plain, aesKeyOf(account.encodingAESKey), appId);
  switch (kind) {
    case 'truncated XML': {
      const encrypted = sealed(pushXml(fields));
      const body = encryptedBody(account, encrypted);
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted)}`,
        body: body.slice(0, body.length - 12),
      };
    }
    case 'DOCTYPE with entities': {
      const plain = `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>${account.originalId}</ToUserName><FromUserName>${openId}</FromUserName><CreateTime>${now}</CreateTime><MsgType>event</MsgType><Event>subscribe</Event><EventKey>&b;</EventKey></xml>`;
      const encrypted = sealed(plain);
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted)}`,
        body: encryptedBody(account, encrypted),
      };
    }
    case 'forged msg_signature': {
      const encrypted = sealed(pushXml(fields));
      const query = new URLSearchParams(signedQuery(account, now, nonce, encrypted));
      query.set('msg_signature', wechatSignature('forged', String(now), nonce, encrypted));
      return { path: `${path}?${query}`, body: encryptedBody(account, encrypted) };
    }
    case 'no signature': {
      const encrypted = sealed(pushXml(fields));
      return {
        path: `${path}?timestamp=${now}&nonce=${nonce}&encrypt_type=aes`,
        body: encryptedBody(account, encrypted),
      };
    }
    case 'signature with another token': {
      const encrypted = sealed(pushXml(fields));
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted, 'othertoken')}`,
        body: encryptedBody(account, encrypted),
      };
    }
    case 'oversized (70 KB)': {
      const encrypted = sealed(pushXml({ ...fields, Padding: 'x'.repeat(52 * 1024) }));
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted)}`,
        body: encryptedBody(account, encrypted),
      };
    }
    case 'replayed (signed an hour ago)':
      return wirePush(account, followFields(account, openId, now - 3600), now - 3600);
    case 'ciphertext of another app': {
      const encrypted = sealed(pushXml(fields), 'wxsomeoneelse');
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted)}`,
        body: encryptedBody(account, encrypted),
      };
    }
    case 'ciphertext not base64': {
      const encrypted = `!!${'%'.repeat(40)}!!`;
      return {
        path: `${path}?${signedQuery(account, now, nonce, encrypted)}`,
        body: encryptedBody(account, encrypted),
      };
    }
  }
}
