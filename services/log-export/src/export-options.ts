import { parseArgs } from 'node:util';
import { Topics, eventCatalogue } from '@wxp/contracts';

export type ExportFormat = 'ndjson' | 'parquet';
export const exportFormats: readonly ExportFormat[] = ['ndjson', 'parquet'];

/** The topics an export reads: what an analyst asks of the log. The admin topic holds no user's activity. */
export const exportedTopics: readonly string[] = [Topics.events, Topics.profiles];

export interface ExportOptions {
  appId: string;
  /** Milliseconds since the epoch; the window is [since, until) on the time events reached the log. */
  since: number;
  until: number;
  /** Empty: every type of the exported topics. */
  types: string[];
  /** The topics holding the asked types, in the order of `exportedTopics`. */
  topics: string[];
  format: ExportFormat;
  /** A path, or `-` for standard output (NDJSON only). */
  out: string;
  force: boolean;
  decrypt: boolean;
}

/** The caller asked for something that cannot be done as asked; the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const usage = `usage: export --app <appId> --since <time> --until <time> --out <file|-> [options]

Writes the events of one account that reached ${exportedTopics.join(' and ')} in [since, until),
one row per event with a fixed set of typed columns, as NDJSON or Parquet. Personal fields are left
out (null) and openId carries nothing: the user is the pseudonym column. With --decrypt they are
exported in clear, except for users whose data key is destroyed, who keep only their pseudonym.

  --app <appId>       the account
  --since <time>      ISO 8601 with a zone (2026-11-01T08:00:00Z, 2026-11-01T16:00+08:00) or a
  --until <time>      day (2026-11-01, midnight China time); since must come before until
  --type <type>       only these event types; repeat it or separate with commas
  --format <format>   ndjson or parquet; default: from the extension of --out
  --out <file>        where to write; - is standard output, as NDJSON
  --force             replace --out when it exists
  --decrypt           personal fields in clear (needs PRIVACY_KEY and MONGO_URL)

Uses KAFKA_BROKERS, and with --decrypt MONGO_URL and PRIVACY_KEY.`;

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;
// A date and time must say its zone: a time read in the machine's zone would shift the window silently.
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Milliseconds since the epoch of an ISO 8601 time or day; a UsageError naming the option otherwise. */
export function parseTime(option: string, input: string): number {
  const text = input.trim();
  const shaped = dayPattern.test(text) || dateTimePattern.test(text);
  // A day alone begins at midnight in China, as the read models' days do.
  const zoned = dayPattern.test(text) ? `${text}T00:00:00+08:00` : text;
  const ms = shaped ? Date.parse(zoned) : NaN;
  // Date.parse rolls 2026-02-30 over to March; a day that does not exist is a typo.
  const sameDay =
    Number.isFinite(ms) && new Date(ms + offsetMs(zoned)).toISOString().startsWith(text.slice(0, 10));
  if (!shaped || !sameDay) {
    const hint = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text) ? ' (add Z or an offset such as +08:00)' : '';
    throw new UsageError(
      `${option} must be an ISO 8601 time with a zone or a day (2026-11-01T08:00:00Z, 2026-11-01), got ${JSON.stringify(input)}${hint}`,
    );
  }
  return ms;
}

/** The offset a time states, so the day it names can be checked in its own zone. */
function offsetMs(text: string): number {
  const match = /([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!match || /z$/i.test(text)) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -1 : 1) * minutes * 60_000;
}

/** The asked types, each checked against the catalogue and its topic. */
export function parseTypes(values: readonly string[]): string[] {
  const types = [...new Set(values.flatMap((v) => v.split(',')).map((t) => t.trim()))].filter(
    (t) => t !== '',
  );
  for (const type of types) {
    const definition = eventCatalogue.get(type);
    if (!definition) {
      const known = [...eventCatalogue.values()]
        .filter((d) => exportedTopics.includes(d.topic))
        .map((d) => d.type)
        .sort();
      throw new UsageError(`unknown event type ${JSON.stringify(type)}; known types: ${known.join(', ')}`);
    }
    if (!exportedTopics.includes(definition.topic))
      throw new UsageError(`${type} is on ${definition.topic}, which export does not read`);
  }
  return types;
}

function formatOf(option: string | undefined, out: string): ExportFormat {
  if (option !== undefined) {
    if (!(exportFormats as readonly string[]).includes(option))
      throw new UsageError(`--format must be ndjson or parquet, got ${JSON.stringify(option)}`);
    return option as ExportFormat;
  }
  if (out === '-' || /\.(ndjson|jsonl)$/i.test(out)) return 'ndjson';
  if (/\.parquet$/i.test(out)) return 'parquet';
  throw new UsageError('--format is needed: ndjson or parquet (or an --out ending in .ndjson or .parquet)');
}

/** Parses and checks the program's arguments; `help` when usage was asked for. */
export function parseExportArguments(args: string[]): ExportOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        app: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        type: { type: 'string', multiple: true },
        format: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        decrypt: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  for (const name of ['app', 'since', 'until', 'out'] as const)
    if (values[name] === undefined || values[name].trim() === '')
      throw new UsageError(`--${name} is required`);
  const appId = values.app!.trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(appId))
    throw new UsageError(`--app must be an appId (letters, digits, _ and -), got ${JSON.stringify(appId)}`);
  const since = parseTime('--since', values.since!);
  const until = parseTime('--until', values.until!);
  if (since >= until)
    throw new UsageError(
      `--since must come before --until (${new Date(since).toISOString()} is not before ${new Date(until).toISOString()})`,
    );
  const out = values.out!;
  const format = formatOf(values.format, out);
  if (out === '-' && format !== 'ndjson')
    throw new UsageError('--out - (standard output) takes --format ndjson only: Parquet needs a file');
  const types = parseTypes(values.type ?? []);
  const topics = exportedTopics.filter(
    (topic) => types.length === 0 || types.some((t) => eventCatalogue.get(t)!.topic === topic),
  );
  return {
    appId,
    since,
    until,
    types,
    topics,
    format,
    out,
    force: values.force === true,
    decrypt: values.decrypt === true,
  };
}
