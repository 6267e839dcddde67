import { randomBytes } from 'node:crypto';
import type { Account } from '@wxp/accounts';
import { wechatSignature } from '../../services/gateway/src/signature';
import { aesKeyOf, encryptMessage } from '../../services/gateway/src/wechat-crypto';

/** Builds pushes the way WeChat sends them, for any account mode and body format. */
export function testAccount(overrides: Partial<Account> = {}): Account {
  return {
    appId: `wx${randomBytes(8).toString('hex')}`,
    appSecret: randomBytes(16).toString('hex'),
    token: `tok${randomBytes(6).toString('hex')}`,
    encodingAESKey: randomBytes(32).toString('base64').replace(/[+/]/g, 'A').slice(0, 43),
    encryptMode: 'plain',
    format: 'xml',
    originalId: `gh_${randomBytes(6).toString('hex')}`,
    ...overrides,
  };
}

export type PushFieldValues = Record<string, string | number>;

export function xmlOf(fields: PushFieldValues): string {
  const inner = Object.entries(fields)
    .map(([name, value]) =>
      typeof value === 'number' ? `<${name}>${value}</${name}>` : `<${name}><![CDATA[${value}]]></${name}>`,
    )
    .join('');
  return `<xml>${inner}</xml>`;
}

export function jsonOf(fields: PushFieldValues): string {
  return JSON.stringify(fields);
}

export function eventFields(
  account: Account,
  openId: string,
  event: string,
  extra: PushFieldValues = {},
): PushFieldValues {
  return {
    ToUserName: account.originalId ?? 'gh_unknown',
    FromUserName: openId,
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: event,
    ...extra,
  };
}

export interface SignedPush {
  query: string;
  body: string;
}

/** The query and body WeChat would send for these fields, encrypted as the account's mode requires. */
export function signedPush(
  account: Account,
  fields: PushFieldValues,
  timestamp = Math.floor(Date.now() / 1000),
): SignedPush {
  const nonce = randomBytes(4).toString('hex');
  const ts = String(timestamp);
  const signature = wechatSignature(account.token, ts, nonce);
  const serialise = account.format === 'json' ? jsonOf : xmlOf;
  const plain = serialise(fields);
  if (account.encryptMode === 'plain')
    return {
      query: `signature=${signature}&timestamp=${ts}&nonce=${nonce}&openid=${fields.FromUserName}`,
      body: plain,
    };
  const encrypted = encryptMessage(plain, aesKeyOf(account.encodingAESKey), account.appId);
  const msgSignature = wechatSignature(account.token, ts, nonce, encrypted);
  const outer: PushFieldValues =
    account.encryptMode === 'safe'
      ? { ToUserName: fields.ToUserName ?? '', Encrypt: encrypted }
      : { ...fields, Encrypt: encrypted };
  return {
    query: `signature=${signature}&timestamp=${ts}&nonce=${nonce}&openid=${fields.FromUserName}&encrypt_type=aes&msg_signature=${msgSignature}`,
    body: serialise(outer),
  };
}
