import { cleanEnv, makeValidator, EnvError, port, str, url, num, bool } from 'envalid';

export { port, str, url, num, bool };

/** Thrown when the environment does not describe a runnable service; one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** A comma-separated list of host:port pairs, as Kafka clients take them. */
export const brokerList = makeValidator<string[]>((input: string) => {
  const brokers = input
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new EnvError('must list at least one host:port');
  for (const broker of brokers) {
    const match = /^([^\s:]+):(\d{1,5})$/.exec(broker);
    if (!match || Number(match[2]) > 65535) throw new EnvError(`"${broker}" is not host:port`);
  }
  return brokers;
});

/** A MongoDB connection string (mongodb:// or mongodb+srv://) that names a database. */
export const mongoUrl = makeValidator<string>((input: string) => {
  if (!/^mongodb(\+srv)?:\/\/[^/]+\/[^/?]+/.test(input)) {
    throw new EnvError('must be mongodb://host[:port]/database[?options]');
  }
  return input;
});

type Specs = Parameters<typeof cleanEnv>[1];

/**
 * Reads and validates the service's variables. Every bad or missing value is reported, each on
 * its own line, before the service does anything else.
 */
export function loadConfig<S extends Specs>(specs: S, env: NodeJS.ProcessEnv = process.env) {
  return cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const byName = errors as Record<string, Error | undefined>;
      const names = Object.keys(byName);
      if (names.length === 0) return;
      throw new ConfigError(
        names.map((name) => {
          const error = byName[name];
          const value = env[name];
          const reason =
            value === undefined || value === '' ? 'is required' : `${error?.message ?? 'is invalid'}`;
          const shown = value === undefined || reason.includes(value) ? '' : ` (got "${value}")`;
          return `${name} ${reason}${shown}`;
        }),
      );
    },
  });
}
