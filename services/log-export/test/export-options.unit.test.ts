import { Topics } from '@wxp/contracts';
import { parseExportArguments, parseTime, UsageError } from '../src/export-options';

const base = ['--app', 'wx-export', '--since', '2026-11-01', '--until', '2026-11-02T00:00:00Z'];

function refused(args: string[]): string {
  try {
    parseExportArguments(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
}

describe('export arguments', () => {
  it('reads a window, types and a format from the file name', () => {
    const options = parseExportArguments([
      ...base,
      '--type',
      'wechat.user.subscribed,wechat.menu.clicked',
      '--type',
      'wechat.user.subscribed',
      '--out',
      'week.parquet',
    ]);
    expect(options).toEqual({
      appId: 'wx-export',
      since: Date.UTC(2026, 9, 31, 16), // midnight in China
      until: Date.UTC(2026, 10, 2),
      types: ['wechat.user.subscribed', 'wechat.menu.clicked'],
      topics: [Topics.events],
      format: 'parquet',
      out: 'week.parquet',
      force: false,
      decrypt: false,
    });
  });

  it('reads both topics without types, and only the profiles topic for profile types', () => {
    const all = parseExportArguments([...base, '--format', 'ndjson', '--out', 'x']);
    expect(all !== 'help' && all.topics).toEqual([Topics.events, Topics.profiles]);
    const profiles = parseExportArguments([...base, '--type', 'wechat.profile.fetched', '--out', 'p.ndjson']);
    expect(profiles !== 'help' && profiles.topics).toEqual([Topics.profiles]);
  });

  it('takes times with a zone, and days at midnight China time', () => {
    expect(parseTime('--since', '2026-11-01T16:00+08:00')).toBe(Date.UTC(2026, 10, 1, 8));
    expect(parseTime('--since', '2026-11-01T08:00:00.250Z')).toBe(Date.UTC(2026, 10, 1, 8, 0, 0, 250));
    expect(parseTime('--since', '2026-02-28')).toBe(Date.UTC(2026, 1, 27, 16));
    expect(parseTime('--since', '2026-03-01')).toBe(Date.UTC(2026, 1, 28, 16));
  });

  it.each([
    ['2026-11-01T08:00:00', 'add Z or an offset'],
    ['yesterday', 'ISO 8601'],
    ['2026-02-30', 'ISO 8601'],
    ['2026-11-01T25:00Z', 'ISO 8601'],
    ['1700000000', 'ISO 8601'],
  ])('refuses the time %s', (time, message) => {
    expect(() => parseTime('--since', time)).toThrow(UsageError);
    expect(() => parseTime('--since', time)).toThrow(message);
  });

  it('refuses what it cannot do as asked, naming the option', () => {
    expect(refused(['--since', '2026-11-01', '--until', '2026-11-02', '--out', 'a.ndjson'])).toBe(
      '--app is required',
    );
    expect(refused([...base.slice(0, 4), '--until', '2026-11-01', '--out', 'a.ndjson'])).toMatch(
      /^--since must come before --until/,
    );
    expect(refused([...base, '--out', 'a.csv'])).toMatch(/^--format is needed/);
    expect(refused([...base, '--format', 'csv', '--out', 'a'])).toBe(
      '--format must be ndjson or parquet, got "csv"',
    );
    expect(refused([...base, '--format', 'parquet', '--out', '-'])).toMatch(/Parquet needs a file/);
    expect(refused([...base, '--type', 'wechat.user.followed', '--out', 'a.ndjson'])).toMatch(
      /^unknown event type "wechat.user.followed"; known types: .*wechat.user.subscribed/,
    );
    expect(refused([...base, '--type', 'wechat.admin.campaign.created', '--out', 'a.ndjson'])).toBe(
      'wechat.admin.campaign.created is on wechat.admin.v1, which export does not read',
    );
    expect(refused([...base, '--app', 'wx/../../etc', '--out', 'a.ndjson'])).toMatch(
      /^--app must be an appId/,
    );
    expect(refused([...base, '--out', 'a.ndjson', '--colour'])).toMatch(/--colour/);
  });
});
