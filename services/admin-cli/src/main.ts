#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { CliError } from './admin-http-client';
import { eraseUserCommand } from './erasure-command';
import { exportCommand } from './export-command';
import { funnelCommand } from './funnel-command';
import { backfillCommand, replayCommand } from './maintenance-commands';
import { menuCommands } from './menu-commands';
import { qrCommands } from './qr-commands';
import { appsCommand, statsCommand, subscribersCommand } from './report-commands';
import { snapshotsCommand } from './snapshot-commands';

const program = new Command('wxp')
  .description(
    'Campaigns, menu and read models of the WeChat Official Account platform, from a terminal. ' +
      'Talks to the admin API (--url, ADMIN_URL; default http://127.0.0.1:8081) with its token ' +
      "(--token, ADMIN_TOKEN, or the local stack's .data/admin-token).",
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run cli -- qr create --scene 2024 --name "Spring fair" --expire 604800 --out fair.png
  npm run cli -- qr list
  npm run cli -- stats 2024
  npm run cli -- funnel 2024 --from 2026-11-01 --to 2026-11-30
  npm run cli -- menu publish menu.json
  npm run cli -- replay qr-attribution
  npm run cli -- replay qr-attribution --until 2026-11-30
  npm run cli -- stats 2024 --snapshot qr-attribution.mi3k2x1a
  npm run cli -- export --app wx1234567890abcdef --since 2026-11-01 --until 2026-11-08 --out week.parquet
  npm run cli -- erase-user wx1234567890abcdef oAbCdEfGhIjKlMnOpQrStUvWxYz0`,
  )
  .option('--url <url>', 'the admin API')
  .option('--token <token>', 'the admin token')
  .option('--json', 'print JSON instead of tables')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const command of [
  appsCommand(),
  qrCommands(),
  statsCommand(),
  funnelCommand(),
  subscribersCommand(),
  eraseUserCommand(),
  menuCommands(),
  replayCommand(),
  snapshotsCommand(),
  backfillCommand(),
  exportCommand(),
]) {
  program.addCommand(command);
}
for (const command of program.commands) {
  command.exitOverride().showHelpAfterError('(add --help for usage)');
  for (const sub of command.commands) sub.exitOverride().showHelpAfterError('(add --help for usage)');
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`error: ${error instanceof CliError ? error.message : String(error)}\n`);
  if (!(error instanceof CliError) && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
