import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './admin-http-client';

/** The repository's root, from src/ and dist/ alike. */
export const repoRoot = resolve(__dirname, '..', '..', '..');

/** Where `npm start` keeps the local stack's accounts, token and keys. */
export const dataDir = () => process.env.WXP_DATA_DIR ?? join(repoRoot, '.data');

const fromDataDir = (file: string) => {
  const path = join(dataDir(), file);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
};

export function adminUrl(option?: string): string {
  const url = option ?? process.env.ADMIN_URL ?? `http://127.0.0.1:${process.env.ADMIN_PORT ?? 8081}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // Never shown back: a URL may carry a password, and this line may end up in a terminal's log.
  if (!parsed || !/^https?:$/.test(parsed.protocol))
    throw new CliError('--url (or ADMIN_URL) must be an http(s) URL');
  if (parsed.username || parsed.password)
    throw new CliError('--url (or ADMIN_URL) must not carry credentials: the admin token goes with --token');
  return url.replace(/\/+$/, '');
}

export function adminToken(option?: string): string {
  const token = option ?? process.env.ADMIN_TOKEN ?? fromDataDir('admin-token');
  if (!token) throw new CliError('no admin token: pass --token, set ADMIN_TOKEN, or start the local stack');
  return token;
}

/** The variables the replay and backfill programs need, filled from the local stack when unset. */
export function maintenanceEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  env.PRIVACY_KEY ??= fromDataDir('privacy-key');
  const accounts = join(dataDir(), 'accounts.json');
  if (!env.WECHAT_ACCOUNTS_FILE && existsSync(accounts)) {
    env.WECHAT_ACCOUNTS_FILE = accounts;
    // The local stack's accounts are the local emulator's; other accounts need WECHAT_API_BASE named.
    env.WECHAT_API_BASE ??= `http://127.0.0.1:${env.WECHAT_EMULATOR_PORT ?? 8089}`;
  }
  return env;
}
