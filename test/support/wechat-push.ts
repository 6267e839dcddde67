import { randomBytes } from 'node:crypto';
import type { Account } from '@wxp/accounts';
import { buildPush, type PushFieldValues } from '@wxp/wechat-push';

export type { PushFieldValues };

/** A fresh account of the given mode and format, for tests. */
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

export function signedPush(
  account: Account,
  fields: PushFieldValues,
  timestamp = Math.floor(Date.now() / 1000),
): SignedPush {
  const { query, body } = buildPush(account, fields, { timestamp });
  return { query, body };
}
