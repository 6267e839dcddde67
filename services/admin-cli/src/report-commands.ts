import { Command } from 'commander';
import { contextOf, integerOption, path } from './cli-context';
import { table } from './tables';

interface Figures {
  scans: number;
  subscribes: number;
  returning: number;
  unsubscribes: number;
}

const row = (label: string, f: Figures) => [label, f.scans, f.subscribes, f.returning, f.unsubscribes];

export function statsCommand(): Command {
  return new Command('stats')
    .description("a campaign's scans, new and returning followers and unfollows, per day and in total")
    .argument('<scene>', 'the scene of its QR code')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .option('--snapshot <id>', 'read the figures as a snapshot holds them (`wxp snapshots` lists them)')
    .action(async (scene: string, options: { app?: string; snapshot?: string }, command: Command) => {
      const context = contextOf(command);
      const appId = await context.appId(options.app);
      const query =
        options.snapshot === undefined ? '' : `?${new URLSearchParams({ snapshot: options.snapshot })}`;
      const stats = await context.client.json<
        Figures & {
          name?: string;
          snapshot?: { id: string; until: string };
          days: (Figures & { day: string })[];
        }
      >('GET', `/api/apps/${path(appId)}/campaigns/${path(scene)}/stats${query}`);
      if (context.json) return context.print(JSON.stringify(stats, null, 2));
      context.print(
        `scene ${scene}${stats.name ? ` (${stats.name})` : ''} of ${appId}` +
          (stats.snapshot
            ? `, as the log stood before ${stats.snapshot.until} (snapshot ${stats.snapshot.id})`
            : ''),
      );
      context.print(
        table(
          ['day (China time)', 'scans', 'new', 'returning', 'unfollows'],
          [...stats.days.map((d) => row(d.day, d)), row('total', stats)],
        ),
      );
    });
}

export function subscribersCommand(): Command {
  return new Command('subscribers')
    .description('the followers, newest first, optionally only those one QR scene brought')
    .option('--scene <scene>', 'only followers who came through this scene')
    .option('--page <n>', 'page number, from 1', integerOption('--page'), 1)
    .option('--page-size <n>', 'followers per page (1..200)', integerOption('--page-size'), 50)
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(
      async (options: { scene?: string; page: number; pageSize: number; app?: string }, command: Command) => {
        const context = contextOf(command);
        const appId = await context.appId(options.app);
        const query = new URLSearchParams({ page: String(options.page), pageSize: String(options.pageSize) });
        if (options.scene) query.set('scene', options.scene);
        const answer = await context.client.json<{
          total: number;
          subscribers: { openId?: string; scene: string | null; subscribedAt?: string }[];
        }>('GET', `/api/apps/${path(appId)}/subscribers?${query}`);
        if (context.json) return context.print(JSON.stringify(answer, null, 2));
        context.print(
          table(
            ['openId', 'scene', 'followed at'],
            // A follower who asked to be erased is still counted, without an openId.
            answer.subscribers.map((s) => [s.openId ?? '(erased)', s.scene ?? '', s.subscribedAt ?? '']),
          ),
        );
        const pages = Math.max(1, Math.ceil(answer.total / options.pageSize));
        context.print(`${answer.total} followers; page ${options.page} of ${pages}`);
      },
    );
}

export function appsCommand(): Command {
  return new Command('apps')
    .description('the accounts the deployment serves')
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const { apps } = await context.client.json<{
        apps: { appId: string; encryptMode: string; format: string }[];
      }>('GET', '/api/apps');
      if (context.json) return context.print(JSON.stringify(apps, null, 2));
      context.print(
        table(
          ['appId', 'encryption', 'format'],
          apps.map((a) => [a.appId, a.encryptMode, a.format]),
        ),
      );
    });
}
