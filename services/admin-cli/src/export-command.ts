import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CliError } from './admin-http-client';
import { maintenanceEnv, repoRoot } from './local-settings';

interface ExportFlags {
  app: string;
  since: string;
  until: string;
  type?: string[];
  format?: string;
  out: string;
  force?: boolean;
  decrypt?: boolean;
}

/**
 * Runs the export program with the terminal, so its progress bar shows. Its exit code is the
 * command's: 2 keeps meaning "asked wrongly" (its message already printed), as for wxp's own checks.
 */
function runExport(args: string[], decrypt: boolean): Promise<void> {
  const entry = join(repoRoot, 'services', 'log-export', 'dist', 'export.js');
  if (!existsSync(entry)) throw new CliError(`${entry} is missing; run npm run build`);
  const env = maintenanceEnv();
  // The privacy key opens data only on request: an export without --decrypt is given none.
  if (!decrypt) delete env.PRIVACY_KEY;
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
      } else reject(new CliError(`log-export export.js ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

export function exportCommand(): Command {
  return new Command('export')
    .description(
      "write one account's events of a time window (wechat.events.v2 and wechat.profiles.v2) to NDJSON or Parquet, one typed row per event, with a progress bar",
    )
    .requiredOption('--app <appId>', 'the account')
    .requiredOption(
      '--since <time>',
      'start, included: ISO 8601 with a zone (2026-11-01T08:00:00Z) or a day (2026-11-01, from midnight China time)',
    )
    .requiredOption('--until <time>', 'end, excluded, in the same forms')
    .option(
      '--type <type>',
      'only these event types (repeat or separate with commas)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option('--format <format>', 'default: from the extension of --out').choices(['ndjson', 'parquet']),
    )
    .requiredOption('--out <file>', 'where to write; - is standard output (ndjson only)')
    .option('--force', 'replace --out when it exists')
    .option(
      '--decrypt',
      'personal fields in clear, except those of erased users (needs PRIVACY_KEY and MONGO_URL)',
    )
    .addHelpText(
      'after',
      '\nThe window is when events reached the log. Without --decrypt no personal field leaves the log: openId and ' +
        'what users sent are null, each user is their pseudonym. A user whose data key is destroyed keeps only the ' +
        "pseudonym, with --decrypt too. Uses KAFKA_BROKERS, and with --decrypt MONGO_URL and PRIVACY_KEY (the local stack's .data/privacy-key when unset).",
    )
    .action((flags: ExportFlags) => {
      const args = ['--app', flags.app, '--since', flags.since, '--until', flags.until, '--out', flags.out];
      for (const type of flags.type ?? []) args.push('--type', type);
      if (flags.format) args.push('--format', flags.format);
      if (flags.force) args.push('--force');
      if (flags.decrypt) args.push('--decrypt');
      return runExport(args, flags.decrypt === true);
    });
}
