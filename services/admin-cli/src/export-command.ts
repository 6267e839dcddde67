import { Command, Option } from 'commander';
import { maintenanceEnv } from './local-settings';
import { runProgram } from './maintenance-commands';

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

/** The export program, given the privacy key only when asked to decrypt. */
function runExport(args: string[], decrypt: boolean): Promise<void> {
  const env = maintenanceEnv();
  // The privacy key opens data only on request: an export without --decrypt is given none.
  if (!decrypt) delete env.PRIVACY_KEY;
  return runProgram('log-export', 'export.js', args, env);
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
