import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * A service started with bad variables says what is wrong with every one of them, once, and exits
 * before it connects anywhere: the store named here answers nobody, so a service that tried it
 * would hang rather than exit.
 */
const root = join(__dirname, '..');
const unreachableStore = 'mongodb://127.0.0.1:9/wechat?serverSelectionTimeoutMS=60000';

function start(main: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, main)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const badWechat = { WECHAT_API_BASE: 'http://api.example.com', WECHAT_ACCOUNTS_FILE: '/nonexistent.json' };

describe('a service started with bad variables', () => {
  it('admin API: tells each bad one, its own and WeChat’s, before connecting', async () => {
    const { code, stderr } = await start('services/admin-api/dist/main.js', {
      ...badWechat,
      MONGO_URL: unreachableStore,
      ADMIN_TOKEN: 'short',
      PRIVACY_KEY: 'also-short',
      ADMIN_METRICS_PORT: 'ninety',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^admin-api: invalid configuration:\n/);
    expect(stderr).toContain('WECHAT_API_BASE');
    expect(stderr).toContain('ADMIN_METRICS_PORT');
    expect(stderr).toContain('ADMIN_TOKEN must be at least 16 characters');
    expect(stderr).toContain('PRIVACY_KEY must be at least 16 characters');
    expect(stderr).not.toContain('short');
  });

  it.each([
    ['menu-responder', 'RESPONDER_MAX_AGE_SECONDS'],
    ['profile-enricher', 'ENRICHER_MAX_AGE_SECONDS'],
  ])('%s: tells its own, WeChat’s and the shared ones together, before connecting', async (service, own) => {
    const { code, stderr } = await start(`services/${service}/dist/main.js`, {
      ...badWechat,
      MONGO_URL: unreachableStore,
      PRIVACY_KEY: 'short-key',
      [own]: 'soon',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^${service}: invalid configuration:\\n`));
    for (const name of [own, 'WECHAT_API_BASE', 'PRIVACY_KEY must be at least 16 characters'])
      expect(stderr).toContain(name);
  });
});
