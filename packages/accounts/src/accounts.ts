import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';

/** The longest an account may keep an unfollower's data key: 30 days. */
export const MAX_ERASURE_GRACE_SECONDS = 30 * 24 * 3600;

const AccountSchema = Type.Object(
  {
    appId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    appSecret: Type.String({ minLength: 1 }),
    token: Type.String({ pattern: '^[A-Za-z0-9]{3,32}$' }),
    encodingAESKey: Type.String({ pattern: '^[A-Za-z0-9+/]{43}$' }),
    encryptMode: Type.Union([Type.Literal('plain'), Type.Literal('compat'), Type.Literal('safe')]),
    format: Type.Optional(Type.Union([Type.Literal('xml'), Type.Literal('json')])),
    originalId: Type.Optional(Type.String({ pattern: '^gh_[A-Za-z0-9]+$' })),
    /**
     * How long an unfollower's data key outlives the unfollow, so that a follow again within it
     * keeps their history. 0 (the default): destroyed at once. At most 30 days.
     */
    erasureGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ERASURE_GRACE_SECONDS })),
    /**
     * How replies reach the account's users: `custom` (the default) through message/custom/send,
     * `passive` inside the HTTP answer to the push itself.
     */
    replyChannel: Type.Optional(Type.Union([Type.Literal('passive'), Type.Literal('custom')])),
  },
  { additionalProperties: false },
);

const AccountsFileSchema = Type.Array(AccountSchema);

export type AccountEntry = Static<typeof AccountSchema>;

/** One Official Account served by this deployment, with defaults applied. */
export interface Account extends AccountEntry {
  format: 'xml' | 'json';
}

/** The account's grace period before an unfollower's data key is destroyed; 0 when not set. */
export function erasureGraceSecondsOf(account: Pick<Account, 'erasureGraceSeconds'> | undefined): number {
  return account?.erasureGraceSeconds ?? 0;
}

/**
 * Whether replies to this account's pushes go inside the HTTP answer. WeChat documents passive
 * replies for XML bodies only: a passive account with JSON bodies is answered `success`, and its
 * replies go through the customer-service API.
 */
export function repliesInAnswer(account: Pick<Account, 'replyChannel' | 'format'> | undefined): boolean {
  return account?.replyChannel === 'passive' && account.format === 'xml';
}

export class AccountsError extends Error {
  override readonly name = 'AccountsError';
}

const validate = new Ajv({ allErrors: true }).compile<Static<typeof AccountsFileSchema>>(AccountsFileSchema);

/** Parses and checks the accounts file's content; every problem is named with the entry it is in. */
export function parseAccounts(json: string, origin = 'accounts'): Map<string, Account> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    // The parser's own message quotes the text around the fault, which holds secrets: only where.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new AccountsError(`${origin}: not valid JSON${position ? ` (at character ${position})` : ''}`);
  }
  if (!validate(parsed)) {
    const problems = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`,
    );
    throw new AccountsError(`${origin}: ${problems.join('; ')}`);
  }
  const accounts = new Map<string, Account>();
  for (const entry of parsed) {
    if (accounts.has(entry.appId)) throw new AccountsError(`${origin}: appId ${entry.appId} is listed twice`);
    accounts.set(entry.appId, { ...entry, format: entry.format ?? 'xml' });
  }
  if (accounts.size === 0) throw new AccountsError(`${origin}: lists no account`);
  return accounts;
}

/** Reads the file named by WECHAT_ACCOUNTS_FILE. */
export function loadAccounts(file: string): Map<string, Account> {
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AccountsError(`${file}: cannot be read: ${(error as Error).message}`);
  }
  return parseAccounts(json, file);
}
