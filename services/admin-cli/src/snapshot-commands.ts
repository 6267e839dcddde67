import { Command } from 'commander';
import { contextOf, path } from './cli-context';
import { table } from './tables';

interface SnapshotView {
  id: string;
  service: string;
  until: string;
  builtAt: string;
  events: number;
}

export function snapshotsCommand(): Command {
  return new Command('snapshots')
    .description(
      'the read-model snapshots `wxp replay <service> --until <time>` built, newest first, or drop one',
    )
    .option('--drop <id>', 'drop this snapshot and its collections')
    .action(async (options: { drop?: string }, command: Command) => {
      const context = contextOf(command);
      if (options.drop !== undefined) {
        await context.client.json('DELETE', `/api/snapshots/${path(options.drop)}`);
        return context.print(`dropped ${options.drop}`);
      }
      const { snapshots } = await context.client.json<{ snapshots: SnapshotView[] }>('GET', '/api/snapshots');
      if (context.json) return context.print(JSON.stringify(snapshots, null, 2));
      context.print(
        table(
          ['id', 'service', 'the log before', 'events', 'built at'],
          snapshots.map((s) => [s.id, s.service, s.until, s.events, s.builtAt]),
        ),
      );
    });
}
