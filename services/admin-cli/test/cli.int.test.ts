import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activeCollections } from '@wxp/mongo';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { startCampaignStack, type CampaignStack } from '../../../test/support/running-campaign-stack';
import { runNodeProgram, type ProgramRun } from '../../../test/support/node-program';

const cli = join(__dirname, '..', 'dist', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'wxp-cli-'));
let stack: CampaignStack;

function wxp(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProgramRun> {
  return runNodeProgram(cli, args, {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      ADMIN_URL: stack.adminUrl,
      ADMIN_TOKEN: stack.adminToken,
      // Nothing from a developer's local stack may leak in.
      WXP_DATA_DIR: join(work, 'no-data'),
      ...env,
    },
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm test builds it (npm run build)`);
  stack = await startCampaignStack();
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('the wxp CLI', () => {
  it('has --help on every command', async () => {
    const commands = [
      [],
      ['apps'],
      ['qr'],
      ['qr', 'create'],
      ['qr', 'list'],
      ['qr', 'image'],
      ['stats'],
      ['subscribers'],
      ['erase-user'],
      ['menu'],
      ['menu', 'publish'],
      ['menu', 'show'],
      ['menu', 'delete'],
      ['replay'],
      ['snapshots'],
      ['backfill'],
    ];
    for (const command of commands) {
      const run = await wxp([...command, '--help']);
      expect([command, run.code]).toEqual([command, 0]);
      expect(run.stdout).toContain(`Usage: wxp ${command.join(' ')}`.trim());
    }
  });

  it('creates a QR code, writes its PNG and SVG, and lists it', async () => {
    const created = await wxp([
      'qr',
      'create',
      '--scene',
      '5151',
      '--name',
      'Night market',
      '--expire',
      '86400',
      '--out',
      'night.png',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('created temporary QR code for scene 5151 (Night market)');
    expect(readFileSync(join(work, 'night.png')).subarray(1, 4).toString()).toBe('PNG');

    const svg = await wxp(['qr', 'image', '5151', '--format', 'svg']);
    expect(svg.code).toBe(0);
    expect(readFileSync(join(work, 'qrcode-5151.svg'), 'utf8')).toContain('<svg');

    await eventually(async () => {
      const listed = await wxp(['qr', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/5151\s*│\s*Night market\s*│\s*temporary/);
    });
  });

  it('refuses bad input with the API’s message and exit code 1, and usage errors with 2', async () => {
    const tooBig = await wxp(['qr', 'create', '--scene', '100001', '--kind', 'permanent']);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain('scene must be an integer from 1 to 100000');
    const notNumber = await wxp(['qr', 'create', '--scene', '7', '--expire', 'soon']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--expire must be a whole number');
    const wrongToken = await wxp(['apps'], { ADMIN_TOKEN: 'not-the-token' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('the admin token was refused');
    const noToken = await wxp(['apps'], { ADMIN_TOKEN: '' });
    expect(noToken.stderr).toContain('no admin token');
  });

  it('erases a user without printing their openId, and lists them as erased', async () => {
    const { openId } = await stack.simulate(uniqueName('eve'), { action: 'follow' });
    const appId = stack.account.appId;
    await eventually(async () => expect((await wxp(['subscribers'])).stdout).toContain(openId), 15_000);
    const erased = await wxp(['erase-user', appId, openId]);
    expect([erased.code, erased.stderr]).toEqual([0, '']);
    expect(erased.stdout).toContain('erasure accepted');
    expect(erased.stdout).not.toContain(openId);
    await eventually(async () => {
      const listed = await wxp(['subscribers', '--page-size', '200']);
      expect(listed.stdout).toContain('(erased)');
      expect(listed.stdout).not.toContain(openId);
    }, 15_000);
    const refused = await wxp(['erase-user', appId, 'not an openId']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('path.openId');
    // Refused for another reason (an account not served), the request's path is shown without it.
    const unknown = await wxp(['erase-user', 'wxnotserved0000000', 'oPrivateOpenId0123456789']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('/users/<openId>: 404');
    expect(unknown.stderr).not.toContain('oPrivateOpenId');
  });

  it('never prints a password given in the admin URL', async () => {
    for (const url of ['http://admin:hunter2pass@127.0.0.1:9', 'ftp://admin:hunter2pass@127.0.0.1']) {
      const refused = await wxp(['--url', url, 'apps']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/--url \(or ADMIN_URL\) must/);
      expect(refused.stderr).not.toContain('hunter2pass');
    }
  });

  it('publishes, shows and deletes the menu from a JSON file', async () => {
    const menu = {
      button: [
        { type: 'click', name: 'Offers', key: 'OFFERS' },
        { name: 'About', sub_button: [{ type: 'view', name: 'Site', url: 'https://example.com/' }] },
      ],
    };
    writeFileSync(join(work, 'menu.json'), JSON.stringify(menu));
    const published = await wxp(['menu', 'publish', 'menu.json']);
    expect(published.code).toBe(0);
    expect(published.stdout).toContain('- Offers [click OFFERS]');
    expect((await stack.emulator.state(stack.account.appId)).menu).toMatchObject(menu);
    expect((await wxp(['menu', 'show'])).stdout).toContain('  - Site [view https://example.com/]');

    writeFileSync(
      join(work, 'bad-menu.json'),
      JSON.stringify({ button: [{ type: 'click', name: 'No key' }] }),
    );
    const bad = await wxp(['menu', 'publish', 'bad-menu.json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('button[0].key is required for type click');
    writeFileSync(join(work, 'broken.json'), '{"button": [');
    expect((await wxp(['menu', 'publish', 'broken.json'])).stderr).toContain('broken.json is not JSON');

    expect((await wxp(['menu', 'delete'])).code).toBe(0);
    expect((await wxp(['menu', 'show'])).stderr).toContain('404');
  });

  it('shows campaign figures as a table, and replays the attribution into fresh collections', async () => {
    // A code of this test's own, so that it holds when run alone or after a failure.
    const created = await wxp([
      'qr',
      'create',
      '--scene',
      '6262',
      '--name',
      'Replay fair',
      '--expire',
      '86400',
    ]);
    expect(created.code).toBe(0);
    const code = await eventually(async () => {
      const found = (await stack.emulator.state(stack.account.appId)).qrcodes.find((q) => q.sceneId === 6262);
      expect(found?.ticket).toEqual(expect.any(String));
      return found!;
    });
    for (const user of [uniqueName('eve'), uniqueName('fay')])
      await stack.simulate(user, { action: 'scan', ticket: code.ticket });

    const table = await eventually(async () => {
      const stats = await wxp(['stats', '6262']);
      expect(stats.stdout).toMatch(/total\s*│\s*0\s*│\s*2\s*│\s*0\s*│\s*0/);
      return stats.stdout;
    }, 15_000);
    expect(table).toContain('scene 6262 (Replay fair)');
    expect(table).toMatch(/\d{4}-\d{2}-\d{2}\s*│\s*0\s*│\s*2/);

    const replay = await wxp(['replay', 'qr-attribution'], {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      MONGO_URL: mongoUrlFor(stack.database),
      PRIVACY_KEY: stack.privacyKey,
    });
    expect(replay.stderr).toContain('replay qr-attribution |');
    expect(replay.code).toBe(0);
    // Attribution reads no personal field: the replay never asks the store for a user's data key.
    expect(replay.stdout).toMatch(
      /replayed \d+ events in [\d.]+ s \(0 reads of users' data keys for 0 keys, [\d.]+ s waiting for them, [\d.]+ s opening events, [\d.]+ s of CPU\); swapped in/,
    );
    const pointer = await activeCollections(stack.mongo.db, 'qr-attribution', { users: 'u', campaigns: 'c' });
    expect(pointer.campaigns).toContain('__replay_');
    // Same figures from the rebuilt collections the pointer names now.
    expect((await wxp(['stats', '6262'])).stdout).toMatch(/total\s*│\s*0\s*│\s*2\s*│\s*0\s*│\s*0/);
    // And the live consumer follows the switch: a follow after it counts in the rebuilt model.
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stack.simulate(uniqueName('gus'), { action: 'scan', ticket: code.ticket });
    await eventually(async () => {
      expect((await wxp(['stats', '6262'])).stdout).toMatch(/total\s*│\s*0\s*│\s*3\s*│\s*0\s*│\s*0/);
    }, 15_000);

    // The model as it stood before gus came, in a snapshot of its own; the live figures stay.
    const maintenance = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      MONGO_URL: mongoUrlFor(stack.database),
      PRIVACY_KEY: stack.privacyKey,
    };
    const personal = await wxp(['replay', 'profile-enricher', '--until', '2026-11-30'], maintenance);
    expect(personal.code).toBe(2);
    expect(personal.stderr).toContain('--until is not offered for profile-enricher');
    const refused = await wxp(['replay', 'qr-attribution', '--until', 'last tuesday'], maintenance);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--until must be a day (China time) or an ISO 8601 time');
    const snapshot = await wxp(['replay', 'qr-attribution', '--until', cut.toISOString()], maintenance);
    expect(snapshot.stderr).toContain('snapshot qr-attribution |');
    expect(snapshot.code).toBe(0);
    const id = /snapshot (qr-attribution\.[0-9a-z]+) of the log before /.exec(snapshot.stdout)?.[1];
    expect(id).toBeDefined();
    expect((await wxp(['stats', '6262', '--snapshot', id!])).stdout).toMatch(
      /total\s*│\s*0\s*│\s*2\s*│\s*0\s*│\s*0/,
    );
    expect((await wxp(['stats', '6262'])).stdout).toMatch(/total\s*│\s*0\s*│\s*3\s*│\s*0\s*│\s*0/);
    expect((await wxp(['snapshots'])).stdout).toContain(id);
    expect((await wxp(['snapshots', '--drop', id!])).code).toBe(0);
    expect((await wxp(['snapshots'])).stdout).not.toContain(id);
  }, 180_000);

  it('backfills profiles with a progress bar', async () => {
    await stack.simulate(uniqueName('hal'), { action: 'follow' });
    const accountsFile = join(work, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([stack.account]));
    const backfill = await wxp(['backfill', '--app', stack.account.appId], {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      MONGO_URL: mongoUrlFor(stack.database),
      PRIVACY_KEY: stack.privacyKey,
      WECHAT_API_BASE: stack.emulator.baseUrl,
      WECHAT_ACCOUNTS_FILE: accountsFile,
    });
    expect(backfill.stderr + backfill.stdout).toContain(`backfill ${stack.account.appId} |`);
    expect(backfill.code).toBe(0);
    // One profile per current follower, and there is at least one: a follow of this test's own.
    const followers = (await stack.emulator.state(stack.account.appId)).users.filter(
      (u) => u.subscribe === 1,
    );
    expect(followers.length).toBeGreaterThan(0);
    // Less the follower erased above, who still follows: no profile is fetched anew for them.
    expect(backfill.stdout + backfill.stderr).toContain(
      `${followers.length - 1} profiles written for ${stack.account.appId}; 1 of the followers left out`,
    );
  });
});
