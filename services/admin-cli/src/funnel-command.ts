import { Command, InvalidArgumentError } from 'commander';
import { contextOf, path } from './cli-context';
import { table } from './tables';

interface FunnelFigures {
  scans: number;
  newFollows: number;
  returningFollows: number;
  engagedWithin24h: number;
  unfollowedWithin7d: number;
  unfollowedWithin30d: number;
}

interface Funnel extends FunnelFigures {
  name?: string;
  snapshot?: { id: string; until: string };
  from?: string;
  to?: string;
  days: (FunnelFigures & { day: string })[];
}

const row = (label: string, f: FunnelFigures) => [
  label,
  f.scans,
  f.newFollows,
  f.returningFollows,
  f.engagedWithin24h,
  f.unfollowedWithin7d,
  f.unfollowedWithin30d,
];

function dayOption(name: string) {
  return (value: string): string => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value))
      throw new InvalidArgumentError(`${name} must be a day as YYYY-MM-DD (China time).`);
    return value;
  };
}

const share = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;

export function funnelCommand(): Command {
  return new Command('funnel')
    .description(
      "a campaign's funnel per cohort day: scans, new and returning follows, followers who engaged within " +
        '24 hours, and who left within 7 and within 30 days, each counted on the day of the scan or follow',
    )
    .usage('[options] [appId] <scene>')
    .argument('<appId>', 'the account (may be left out when there is one: give only the scene)')
    .argument('[scene]', 'the scene of its QR code')
    .option('--from <day>', 'the first cohort day, YYYY-MM-DD (China time)', dayOption('--from'))
    .option(
      '--to <day>',
      'the last cohort day, YYYY-MM-DD (China time); at most 366 days in all',
      dayOption('--to'),
    )
    .option('--snapshot <id>', 'read the funnel as a snapshot holds it (`wxp snapshots` lists them)')
    .action(
      async (
        first: string,
        second: string | undefined,
        options: { from?: string; to?: string; snapshot?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const [appId, scene] = second === undefined ? [await context.appId(), first] : [first, second];
        const query = new URLSearchParams();
        if (options.from) query.set('from', options.from);
        if (options.to) query.set('to', options.to);
        if (options.snapshot) query.set('snapshot', options.snapshot);
        const asked = query.toString();
        const funnel = await context.client.json<Funnel>(
          'GET',
          `/api/apps/${path(appId)}/campaigns/${path(scene)}/funnel${asked ? `?${asked}` : ''}`,
        );
        if (context.json) return context.print(JSON.stringify(funnel, null, 2));
        context.print(
          `funnel of scene ${scene}${funnel.name ? ` (${funnel.name})` : ''} of ${appId}` +
            (funnel.snapshot
              ? `, as the log stood before ${funnel.snapshot.until} (snapshot ${funnel.snapshot.id})`
              : '') +
            (funnel.from ? `, cohorts of ${funnel.from} to ${funnel.to}` : ': nothing counted yet'),
        );
        if (funnel.days.length === 0) return;
        context.print(
          table(
            [
              'cohort day (China time)',
              'scans',
              'new',
              'returning',
              'engaged ≤24 h',
              'left ≤7 d',
              'left ≤30 d',
            ],
            [...funnel.days.map((d) => row(d.day, d)), row('total', funnel)],
          ),
        );
        const follows = funnel.newFollows + funnel.returningFollows;
        if (follows > 0)
          context.print(
            `of ${follows} follows: ${share(funnel.engagedWithin24h, follows)} engaged within 24 h, ` +
              `${share(funnel.unfollowedWithin7d, follows)} left within 7 days, ` +
              `${share(funnel.unfollowedWithin30d, follows)} within 30 days`,
          );
      },
    );
}
