import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import { wechatApiSetupFromEnv } from '@wxp/wechat-api';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { startEmulator, type RunningEmulator } from '../../../test/support/running-emulator';
import { testAccount } from '../../../test/support/wechat-push';

const first = testAccount();
const added = testAccount();
const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-reload-')), 'accounts.json');
let emulator: RunningEmulator;
let mongo: MongoConnection;

beforeAll(async () => {
  emulator = await startEmulator([first, added]);
  mongo = await connectMongo(mongoUrlFor(uniqueName('account-reload')), 'account-reload-test');
});

afterAll(async () => {
  await emulator?.close();
  await mongo?.close();
});

describe('the WeChat API setup of a service', () => {
  it('calls for an account added to the file once the accounts are reloaded', async () => {
    writeFileSync(accountsFile, JSON.stringify([first]));
    const setup = wechatApiSetupFromEnv(mongo.db, {
      WECHAT_API_BASE: emulator.baseUrl,
      WECHAT_ACCOUNTS_FILE: accountsFile,
    });
    await expect(setup.api.getFollowers(added.appId)).rejects.toThrow(/no secret configured/);

    writeFileSync(accountsFile, JSON.stringify([first, added]));
    expect(setup.reloadAccounts().sort()).toEqual([first.appId, added.appId].sort());
    expect(setup.accounts.has(added.appId)).toBe(true);
    await expect(setup.api.getFollowers(added.appId)).resolves.toMatchObject({ total: 0 });

    // A file that does not load leaves the accounts in place.
    writeFileSync(accountsFile, '[{"appId": ');
    expect(() => setup.reloadAccounts()).toThrow();
    expect(setup.accounts.has(added.appId)).toBe(true);
    await expect(setup.api.getFollowers(added.appId)).resolves.toMatchObject({ total: 0 });
  });
});
