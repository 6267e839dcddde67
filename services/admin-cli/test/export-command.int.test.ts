import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNodeProgram, type ProgramRun } from '../../../test/support/node-program';

const cli = join(__dirname, '..', 'dist', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'wxp-cli-export-'));

function wxp(args: string[]): Promise<ProgramRun> {
  return runNodeProgram(cli, args, {
    cwd: work,
    // Nothing from a developer's local stack may leak in; no broker is needed to refuse.
    env: { PATH: process.env.PATH, WXP_DATA_DIR: join(work, 'no-data'), KAFKA_BROKERS: '127.0.0.1:1' },
  });
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm test builds it (npm run build)`);
});

describe('wxp export', () => {
  it('has --help', async () => {
    const help = await wxp(['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: wxp export [options]');
    expect(help.stdout).toContain('--decrypt');
  });

  it.each([
    [
      ['--since', '2026-11-01', '--until', '2026-11-02', '--out', 'a.ndjson'],
      "required option '--app <appId>'",
    ],
    [
      ['--app', 'wx1', '--since', 'yesterday', '--until', '2026-11-02', '--out', 'a.ndjson'],
      'export: --since must be an ISO 8601 time',
    ],
    [
      ['--app', 'wx1', '--since', '2026-11-02', '--until', '2026-11-01', '--out', 'a.ndjson'],
      'export: --since must come before --until',
    ],
    [
      ['--app', 'wx1', '--since', '2026-11-01', '--until', '2026-11-02', '--format', 'csv', '--out', 'a'],
      "argument 'csv' is invalid",
    ],
    [
      [
        '--app',
        'wx1',
        '--since',
        '2026-11-01',
        '--until',
        '2026-11-02',
        '--type',
        'wechat.nope',
        '--out',
        'a.ndjson',
      ],
      'export: unknown event type "wechat.nope"',
    ],
  ])('refuses %j with exit code 2 and says why', async (args, message) => {
    const run = await wxp(['export', ...args]);
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toContain(message);
    expect(readdirSync(work).filter((name) => name !== 'no-data')).toEqual([]);
  });
});
