import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account } from '@wxp/accounts';
import { freePort } from '../src/free-port';
import {
  serviceEnvironment,
  serviceHealthy,
  stackServices,
  startStackService,
  type StackCredential,
  type StackService,
} from '../src/local-stack';
import type { SupervisedProcess } from '../src/supervised-process';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { testAccount } from '../../../test/support/wechat-push';

// The services that read the accounts file, started as `npm start` starts them.
const reloading = ['wechat-emulator', 'gateway', 'admin-api', 'menu-responder', 'profile-enricher'];

const dataDir = mkdtempSync(join(tmpdir(), 'wxp-hangup-'));
const accountsFile = join(dataDir, 'accounts.json');
const first = testAccount();
const added = testAccount();
const adminToken = 'hangup-admin-token-0123456789';
const running = new Map<string, { proc: SupervisedProcess; port: number }>();

function writeAccounts(accounts: Account[]): void {
  writeFileSync(accountsFile, JSON.stringify(accounts), { mode: 0o600 });
}

function serviceNamed(name: string): StackService {
  const service = stackServices.find((s) => s.name === name);
  if (!service) throw new Error(`no stack service ${name}`);
  return service;
}

async function start(name: string, shared: NodeJS.ProcessEnv, chosenPort?: number): Promise<void> {
  const service = serviceNamed(name);
  const port = chosenPort ?? (await freePort());
  const credentials: Record<StackCredential, string> = {
    MONGO_URL: mongoUrlFor(uniqueName('hangup')),
    WECHAT_ACCOUNTS_FILE: accountsFile,
    ADMIN_TOKEN: adminToken,
    PRIVACY_KEY: 'hangup-privacy-key-0123456789',
  };
  const proc = startStackService(service, serviceEnvironment(service, shared, credentials, port), dataDir);
  running.set(name, { proc, port });
  await serviceHealthy(proc, port);
}

function serviceOf(name: string): { proc: SupervisedProcess; port: number } {
  const entry = running.get(name);
  if (!entry) throw new Error(`${name} is not running`);
  return entry;
}

afterAll(async () => {
  await Promise.all([...running.values()].map(({ proc }) => proc.stop()));
});

describe('SIGHUP to a service of the local stack', () => {
  it('reloads the accounts file in every service that reads it, and stops none of them', async () => {
    writeAccounts([first]);
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const emulatorPort = await freePort();
    const shared: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      WECHAT_API_BASE: `http://127.0.0.1:${emulatorPort}`,
      LOG_LEVEL: 'info',
      MENU_RESPONDER_GROUP: uniqueName('hangup-responder'),
      PROFILE_ENRICHER_GROUP: uniqueName('hangup-enricher'),
      // The groups read the run's shared topic from its start: act on none of the other tests' events.
      RESPONDER_MAX_AGE_SECONDS: '-1',
      ENRICHER_MAX_AGE_SECONDS: '-1',
    };
    await start('wechat-emulator', shared, emulatorPort);
    await Promise.all(reloading.filter((n) => n !== 'wechat-emulator').map((name) => start(name, shared)));

    writeAccounts([first, added]);
    for (const name of reloading) {
      const pid = Number(readFileSync(join(dataDir, `${name}.pid`), 'utf8').split(' ')[0]);
      expect(pid).toBe(serviceOf(name).proc.pid);
      process.kill(pid, 'SIGHUP');
    }

    for (const name of reloading) {
      const { proc } = serviceOf(name);
      await eventually(async () => {
        const reloaded = proc
          .logTail(200)
          .split('\n')
          .some((line) => line.includes('"accounts reloaded"') && line.includes(added.appId));
        expect(reloaded).toBe(true);
      }, 20_000);
    }

    const emulatorState = await fetch(`http://127.0.0.1:${emulatorPort}/emulator/state?appId=${added.appId}`);
    expect(emulatorState.status).toBe(200);
    const apps = await fetch(`http://127.0.0.1:${serviceOf('admin-api').port}/api/apps`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(JSON.stringify(await apps.json())).toContain(added.appId);

    for (const name of reloading) {
      const { port } = serviceOf(name);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }
  });
});
