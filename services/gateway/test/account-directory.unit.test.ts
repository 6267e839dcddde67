import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountsError } from '@wxp/accounts';
import { AccountDirectory } from '../src/account-directory';

const entry = (appId: string) => ({
  appId,
  appSecret: 's',
  token: 'token123',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  encryptMode: 'safe',
});

describe('account directory', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'wxp-accounts-')), 'accounts.json');

  it('serves many accounts, each with its own decoded key, and takes new ones on reload', () => {
    writeFileSync(file, JSON.stringify([entry('wxone'), entry('wxtwo')]));
    const directory = AccountDirectory.fromFile(file);
    expect(directory.appIds).toEqual(['wxone', 'wxtwo']);
    expect(directory.get('wxone')?.aesKey).toHaveLength(32);
    writeFileSync(file, JSON.stringify([entry('wxone'), entry('wxthree')]));
    expect(directory.reload(file)).toEqual(['wxone', 'wxthree']);
    expect(directory.get('wxtwo')).toBeUndefined();
  });

  it('keeps serving the accounts it has when the new file is broken', () => {
    writeFileSync(file, JSON.stringify([entry('wxone')]));
    const directory = AccountDirectory.fromFile(file);
    writeFileSync(file, '[{"appId": ');
    expect(() => directory.reload(file)).toThrow(AccountsError);
    expect(directory.appIds).toEqual(['wxone']);
  });
});
