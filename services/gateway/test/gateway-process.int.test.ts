import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../packages/devstack/src/free-port';
import { eventually, kafkaBrokers, mongoUrlFor } from '../../../test/support/infrastructure';
import { sharedKeysDatabase, testPrivacyKey } from '../../../test/support/privacy';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';

// The gateway as `node services/gateway/dist/main.js` runs it: `kill -HUP` reloads the accounts
// file, and a file that does not load leaves the accounts already served in place.
const served = testAccount();
const added = testAccount();
const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-gateway-hup-')), 'accounts.json');
let gateway: ChildProcess | undefined;
let log = '';

afterAll(() => {
  gateway?.kill('SIGKILL');
});

describe('the gateway process', () => {
  it('reloads the accounts file on SIGHUP, and keeps its accounts when the file does not load', async () => {
    writeFileSync(accountsFile, JSON.stringify([served]));
    const port = await freePort();
    gateway = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      env: {
        ...process.env,
        GATEWAY_PORT: String(port),
        KAFKA_BROKERS: kafkaBrokers().join(','),
        MONGO_URL: mongoUrlFor(sharedKeysDatabase),
        PRIVACY_KEY: testPrivacyKey,
        WECHAT_ACCOUNTS_FILE: accountsFile,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    gateway.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const push = async (account: typeof served) => {
      const { query, body } = signedPush(account, eventFields(account, 'oHup', 'CLICK', { EventKey: 'k' }));
      const response = await fetch(`http://127.0.0.1:${port}/wechat/${account.appId}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      return response.status;
    };
    await eventually(async () => expect(await push(served)).toBe(200), 60_000, 250);
    expect(await push(added)).toBe(404);

    writeFileSync(accountsFile, JSON.stringify([served, added]));
    gateway.kill('SIGHUP');
    await eventually(async () => expect(log).toContain('accounts reloaded'), 30_000);
    expect(await push(added)).toBe(200);
    expect(await push(served)).toBe(200);

    writeFileSync(accountsFile, '[{"appId": ');
    gateway.kill('SIGHUP');
    await eventually(async () => expect(log).toContain('accounts not reloaded'), 30_000);
    expect(await push(added)).toBe(200);
    expect(await push(served)).toBe(200);
    // The reason is logged; the file's content is not.
    expect(log).not.toContain('"appId": ');
    expect(log).not.toContain('oHup');
    expect(log).not.toContain(testPrivacyKey);
    expect(gateway.exitCode).toBeNull();
  }, 120_000);
});
