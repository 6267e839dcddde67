import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/free-port';
import { eventually, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

// What `npm start` runs, with the run's broker and store given by KAFKA_BROKERS and MONGO_URL.
const cli = join(__dirname, '..', 'dist', 'cli.js');

describe('the local stack', () => {
  let stack: ChildProcess | undefined;
  let output = '';
  afterAll(() => {
    if (stack && stack.exitCode === null) stack.kill('SIGKILL');
  });

  it('starts every service, serves a push end to end, and stops cleanly on Ctrl-C', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxp-stack-'));
    const ports = {
      gateway: await freePort(),
      admin: await freePort(),
      projection: await freePort(),
      emulator: await freePort(),
      attribution: await freePort(),
      responder: await freePort(),
      enricher: await freePort(),
    };
    const adminToken = 'stack-admin-token-0123456789';
    stack = spawn(process.execPath, [cli, 'up'], {
      env: {
        ...process.env,
        WXP_DATA_DIR: dataDir,
        MONGO_URL: mongoUrlFor(uniqueName('stack')),
        GATEWAY_PORT: String(ports.gateway),
        ADMIN_PORT: String(ports.admin),
        SUBSCRIBER_PROJECTION_PORT: String(ports.projection),
        WECHAT_EMULATOR_PORT: String(ports.emulator),
        QR_ATTRIBUTION_PORT: String(ports.attribution),
        QR_ATTRIBUTION_GROUP: uniqueName('stack-attribution'),
        MENU_RESPONDER_PORT: String(ports.responder),
        MENU_RESPONDER_GROUP: uniqueName('stack-responder'),
        PROFILE_ENRICHER_PORT: String(ports.enricher),
        PROFILE_ENRICHER_GROUP: uniqueName('stack-enricher'),
        SUBSCRIBER_PROJECTION_GROUP: uniqueName('stack-projection'),
        ADMIN_TOKEN: adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stdout?.on('data', (d) => (output += String(d)));
    stack.stderr?.on('data', (d) => (output += String(d)));
    await eventually(async () => expect(output).toContain('Ctrl-C stops everything'), 90_000, 200);
    expect(output).toContain('(from KAFKA_BROKERS)');

    const [account] = JSON.parse(readFileSync(join(dataDir, 'accounts.json'), 'utf8')) as {
      appId: string;
      token: string;
      originalId: string;
    }[];
    if (!account) throw new Error('no demo account written');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = 'stacktest';
    const signature = createHash('sha1')
      .update([account.token, timestamp, nonce].sort().join(''))
      .digest('hex');
    const openId = uniqueName('oStack');
    const reply = await fetch(
      `http://127.0.0.1:${ports.gateway}/wechat/${account.appId}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`,
      {
        method: 'POST',
        body: `<xml><ToUserName>${account.originalId}</ToUserName><FromUserName>${openId}</FromUserName><CreateTime>${timestamp}</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>`,
      },
    );
    expect(await reply.text()).toBe('success');
    await eventually(async () => {
      const response = await fetch(
        `http://127.0.0.1:${ports.admin}/api/apps/${account.appId}/subscribers/${openId}`,
        {
          headers: { authorization: `Bearer ${adminToken}` },
        },
      );
      expect(response.status).toBe(200);
    }, 30_000);
    // The user asks to be erased: the admin API destroys the keys the gateway sealed with, and the
    // projection drops the openId when it reads the announcement.
    const erased = await fetch(`http://127.0.0.1:${ports.admin}/api/apps/${account.appId}/users/${openId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(erased.status).toBe(202);
    await eventually(async () => {
      const response = await fetch(
        `http://127.0.0.1:${ports.admin}/api/apps/${account.appId}/subscribers/${openId}`,
        { headers: { authorization: `Bearer ${adminToken}` } },
      );
      expect(response.status).toBe(404);
    }, 30_000);
    for (const port of Object.values(ports)) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }

    const exited = new Promise<number | null>((resolve) => stack?.once('exit', (code) => resolve(code)));
    stack.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});
