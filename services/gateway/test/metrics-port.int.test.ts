import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@wxp/devstack';
import { eventually, kafkaBrokers, mongoUrlFor } from '../../../test/support/infrastructure';
import { sharedKeysDatabase, testPrivacyKey } from '../../../test/support/privacy';
import { testAccount } from '../../../test/support/wechat-push';

const accountsFile = join(mkdtempSync(join(tmpdir(), 'wxp-metrics-port-')), 'accounts.json');
writeFileSync(accountsFile, JSON.stringify([testAccount()]));
const gateways: ChildProcess[] = [];

async function startGatewayProcess(extra: Record<string, string>): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      MONGO_URL: mongoUrlFor(sharedKeysDatabase),
      PRIVACY_KEY: testPrivacyKey,
      WECHAT_ACCOUNTS_FILE: accountsFile,
      GATEWAY_PORT: String(port),
      LOG_LEVEL: 'error',
      ...extra,
    },
    stdio: 'ignore',
  });
  gateways.push(child);
  await eventually(
    async () => expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200),
    30_000,
    200,
  );
  return port;
}

afterAll(() => {
  for (const gateway of gateways) gateway.kill('SIGKILL');
});

describe('the gateway with a metrics port of its own', () => {
  it('serves /metrics there and nowhere on the push port', async () => {
    const metricsPort = await freePort();
    const port = await startGatewayProcess({ GATEWAY_METRICS_PORT: String(metricsPort) });
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');
    for (const path of ['/metrics', '/METRICS', '/metrics/', '/%6Detrics']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('# TYPE');
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // The metrics port serves nothing else.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
  });

  it('keeps /metrics on the push port when no metrics port is set', async () => {
    const port = await startGatewayProcess({});
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');
  });
});
