import { cleanEnv, makeValidator, EnvError, port, str, url, num, bool } from 'envalid';

export { port, str, url, num, bool };

/**
 * Variables whose values are credentials: a configuration error names them and never shows their
 * value, not even in part.
 */
const secretVariable = /(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|KEY)$|SECRET|PASSWORD/i;

export function isSecretVariable(name: string): boolean {
  return secretVariable.test(name);
}

/** Query parameters that carry credentials in connection strings and API URLs. */
const sensitiveParameter =
  /([?&;][^=&;\s"#]*(?:pass|pwd|secret|token|key|sig|credential|auth)[^=&;\s"#]*=)[^&;\s"#]*/gi;

/**
 * The text with what it may carry of a credential hidden: the user info of URLs
 * (`mongodb://user:password@host` becomes `mongodb://***@host`), the same without a scheme
 * (`user:password@host:9092`), and the values of query parameters such as `password`, `secret`,
 * `access_token` or `authMechanismProperties`.
 */
export function maskCredentials(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#"]*@/gi, '$1***@')
    .replace(/(^|[\s,"(/])[^\s,"@/:*]+:[^\s,"@/]+@/g, '$1***@')
    .replace(sensitiveParameter, '$1***');
}

/** Thrown when the environment does not describe a runnable service; one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    const lines = problems.map((p) => maskCredentials(p).replace(/[\r\n]+/g, ' '));
    super(`invalid configuration:\n${lines.map((p) => `  ${p}`).join('\n')}`);
    this.problems = lines;
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

/** 127.0.0.0/8, ::1 and localhost: addresses that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether credentials may be sent to `base`: over https, or over plain http to this machine only. */
export function isSecureBase(base: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
}

/** The base URL of a service that is sent credentials: https://, or http:// to a loopback host. */
export const secureUrl = makeValidator<string>((input: string) => {
  if (!isSecureBase(input)) {
    throw new EnvError('must be an https:// URL (http:// only to a loopback host such as 127.0.0.1)');
  }
  return input;
});

type Specs = Parameters<typeof cleanEnv>[1];

/**
 * Reads and validates the service's variables. Every bad or missing value is reported, each on
 * its own line, before the service does anything else.
 */
/**
 * Runs one read of the configuration and keeps what it refuses in `problems` instead of throwing,
 * so that a start reports every bad variable at once, before it connects anywhere.
 */
export function readOrGather<T>(problems: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}

export function loadConfig<S extends Specs>(specs: S, env: NodeJS.ProcessEnv = process.env) {
  return cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const byName = errors as Record<string, Error | undefined>;
      const names = Object.keys(byName);
      if (names.length === 0) return;
      throw new ConfigError(names.map((name) => problemLine(name, env[name], byName[name])));
    },
  });
}

/**
 * One line about a bad variable. Validators quote the value they refuse, so the value is taken out
 * of their message: a secret's entirely, any other's with its credentials masked.
 */
function problemLine(name: string, value: string | undefined, error: Error | undefined): string {
  if (value === undefined || value === '') return `${name} is required`;
  const message = error?.message ?? 'is invalid';
  if (isSecretVariable(name)) return `${name} ${message.split(value).join('<hidden>')}`;
  const shown = JSON.stringify(maskCredentials(value)).slice(1, -1);
  const reason = message.split(value).join(shown);
  return `${name} ${reason}${reason.includes(shown) ? '' : ` (got "${shown}")`}`;
}
