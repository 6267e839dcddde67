import { ReplayUsageError, parseReplayArguments } from '../src/replay';

const now = new Date('2026-12-01T12:00:00Z');
const parse = (...args: string[]) => parseReplayArguments(args, now);

describe('the replay command’s arguments', () => {
  it('rebuilds the live model when given none', () => {
    expect(parse()).toEqual({});
  });

  it('reads --until as a time with its zone, or a day as midnight in China', () => {
    expect(parse('--until', '2026-11-30T12:00:00+08:00').until).toEqual(new Date('2026-11-30T04:00:00Z'));
    expect(parse('--until=2026-11-30T04:00:00.250Z').until).toEqual(new Date('2026-11-30T04:00:00.250Z'));
    expect(parse('--until', '2026-11-30').until).toEqual(new Date('2026-11-29T16:00:00Z'));
  });

  it.each([
    [['--until']],
    [['--since', '2026-11-30']],
    [['--until', '2026-11-30', 'extra']],
    [['--until', '2026-11-30T12:00:00']], // no zone: whose noon?
    [['--until', 'yesterday']],
    [['--until', '2026-13-45']],
    [['--until', '2026-12-02T00:00:00Z']], // not yet come
    [['--until', `2026-11-30T12:00:00${'0'.repeat(100)}Z`]],
  ])('refuses %j with a usage error', (args) => {
    expect(() => parse(...args)).toThrow(ReplayUsageError);
  });

  it('does not repeat what it was given when refusing it', () => {
    expect(() => parse('--until', '<script>')).toThrow(/^(?!.*<script>)/);
  });
});
