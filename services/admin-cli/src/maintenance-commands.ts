import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command } from 'commander';
import { CliError } from './admin-http-client';
import { maintenanceEnv, repoRoot } from './local-settings';

const replayable = ['subscriber-projection', 'qr-attribution', 'profile-enricher'];

/**
 * Runs one of the services' own programs with the terminal, so its progress bar shows. Exit code 2
 * (asked wrongly; the program has said how) stays the command's; any other failure is a CliError.
 */
export function runProgram(
  service: string,
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv = maintenanceEnv(),
): Promise<void> {
  const entry = join(repoRoot, 'services', service, 'dist', program);
  if (!existsSync(entry)) throw new CliError(`${entry} is missing; run npm run build`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      if (code === 0) resolve();
      else if (code === 2) {
        process.exitCode = 2;
        resolve();
      } else reject(new CliError(`${service} ${program} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      "rebuild a service's read model from offset 0 into fresh collections, with a progress bar, then switch to them",
    )
    .addArgument(new Argument('<service>', 'the service whose read model to rebuild').choices(replayable))
    .option(
      '--until <time>',
      'build the model as it stood at this time (a day in China time, or ISO 8601 with its zone) into a snapshot of its own; the live model is left alone',
    )
    .addHelpText(
      'after',
      "\nUses KAFKA_BROKERS, MONGO_URL and PRIVACY_KEY (the local stack's .data/privacy-key when unset).\n" +
        'A snapshot is read with `wxp stats <scene> --snapshot <id>`; `wxp snapshots` lists them.',
    )
    .action((service: string, options: { until?: string }) =>
      runProgram(service, 'replay.js', options.until === undefined ? [] : ['--until', options.until]),
    );
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      "fetch every follower's profile from WeChat (user/get, user/info/batchget) onto wechat.profiles.v2, sealed with the follower's data key",
    )
    .requiredOption('--app <appId>', 'the account')
    .addHelpText(
      'after',
      "\nUses KAFKA_BROKERS, MONGO_URL, PRIVACY_KEY, WECHAT_API_BASE and WECHAT_ACCOUNTS_FILE (the local stack's .data/privacy-key and .data/accounts.json when unset).",
    )
    .action((options: { app: string }) =>
      runProgram('profile-enricher', 'backfill.js', ['--app', options.app]),
    );
}
