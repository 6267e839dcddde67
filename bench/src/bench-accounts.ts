import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account } from '@wxp/accounts';

/** One account per mode the benchmark drives; fresh secrets each run. */
export function benchAccount(encryptMode: Account['encryptMode'], extra: Partial<Account> = {}): Account {
  return {
    ...extra,
    appId: `wxbench${encryptMode}${randomBytes(4).toString('hex')}`,
    appSecret: randomBytes(16).toString('hex'),
    token: `tok${randomBytes(6).toString('hex')}`,
    encodingAESKey: randomBytes(32).toString('base64').replace(/[+/]/g, 'A').slice(0, 43),
    encryptMode,
    format: 'xml',
    originalId: `gh_${randomBytes(6).toString('hex')}`,
  };
}

/** The accounts of a run: one per mode for the load phases, and one per fault so their counts stay apart. */
export interface BenchAccounts {
  plain: Account;
  safe: Account;
  outage: Account;
  duplicates: Account;
  hostile: Account;
  /** Replies inside the answer. */
  passive: Account;
  /** The same kind of account, answered `success`: the passive replies' baseline. */
  quiet: Account;
  file: string;
}

export function writeBenchAccounts(): BenchAccounts {
  const accounts = {
    plain: benchAccount('plain'),
    safe: benchAccount('safe'),
    outage: benchAccount('safe'),
    duplicates: benchAccount('plain'),
    hostile: benchAccount('safe'),
    passive: benchAccount('safe', { replyChannel: 'passive' }),
    quiet: benchAccount('safe'),
  };
  const file = join(tmpdir(), `wxp-bench-accounts-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(Object.values(accounts), null, 2));
  return { ...accounts, file };
}
