import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigError } from '@wxp/service-runtime';

/** How a client authenticates to the brokers and encrypts what it sends them. */
export interface KafkaSecurity {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
}

const mechanisms = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
type Mechanism = (typeof mechanisms)[number];

/** The variables read here, for READMEs and for tests that clear them. */
export const kafkaSecurityVariables = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
  'KAFKA_TLS',
  'KAFKA_TLS_CA_FILE',
  'KAFKA_TLS_CERT_FILE',
  'KAFKA_TLS_KEY_FILE',
] as const;

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Reads a file a variable names. The path is shown in a problem (it is not a secret); the content
 * never is, nor the reason the system gave, which could quote it.
 */
function fileOf(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const path = env[name];
  if (!set(path)) return undefined;
  try {
    const content = readFileSync(path.trim(), 'utf8');
    if (content.trim() === '') problems.push(`${name} names an empty file (${path.trim()})`);
    return content;
  } catch {
    problems.push(`${name} names a file that cannot be read (${path.trim()})`);
    return undefined;
  }
}

function pemProblem(name: string, content: string | undefined, label: RegExp): string | undefined {
  if (content === undefined || content.trim() === '') return undefined;
  return label.test(content) ? undefined : `${name} is not a PEM file of the expected kind`;
}

/** What is wrong with the connection-security variables, one line each; with the settings when nothing is. */
export function readKafkaSecurity(env: NodeJS.ProcessEnv = process.env): {
  problems: string[];
  security: KafkaSecurity;
} {
  const problems: string[] = [];
  const security: KafkaSecurity = {};

  const tlsFlag = env.KAFKA_TLS?.trim().toLowerCase();
  if (set(tlsFlag) && !['true', 'false'].includes(tlsFlag)) {
    problems.push(`KAFKA_TLS must be true or false (got "${env.KAFKA_TLS}")`);
  }
  const ca = fileOf(env, 'KAFKA_TLS_CA_FILE', problems);
  const cert = fileOf(env, 'KAFKA_TLS_CERT_FILE', problems);
  const key = fileOf(env, 'KAFKA_TLS_KEY_FILE', problems);
  const anyTlsFile = ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'].some((n) =>
    set(env[n]),
  );
  if (tlsFlag === 'false' && anyTlsFile) {
    problems.push('KAFKA_TLS is false but KAFKA_TLS_*_FILE is set: say KAFKA_TLS=true or unset the files');
  }
  if (set(env.KAFKA_TLS_CERT_FILE) !== set(env.KAFKA_TLS_KEY_FILE)) {
    problems.push(
      'KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together (a client certificate needs its key)',
    );
  }
  for (const problem of [
    pemProblem('KAFKA_TLS_CA_FILE', ca, /-----BEGIN CERTIFICATE-----/),
    pemProblem('KAFKA_TLS_CERT_FILE', cert, /-----BEGIN CERTIFICATE-----/),
    pemProblem('KAFKA_TLS_KEY_FILE', key, /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/),
  ]) {
    if (problem) problems.push(problem);
  }
  const tls = tlsFlag === 'true' || (tlsFlag !== 'false' && anyTlsFile);
  if (tls) {
    // The broker's certificate is always checked: against the given CA, or the system's.
    security.ssl = {
      rejectUnauthorized: true,
      ...(ca ? { ca: [ca] } : {}),
      ...(cert && key ? { cert, key } : {}),
    };
  }

  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  const credentialsGiven = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'].filter(
    (n) => set(env[n]),
  );
  if (!set(mechanism)) {
    if (credentialsGiven.length > 0) {
      problems.push(
        `${credentialsGiven.join(', ')} set but KAFKA_SASL_MECHANISM is not (one of ${mechanisms.join(', ')})`,
      );
    }
  } else if (!(mechanisms as readonly string[]).includes(mechanism)) {
    problems.push(
      `KAFKA_SASL_MECHANISM must be one of ${mechanisms.join(', ')} (got "${env.KAFKA_SASL_MECHANISM}")`,
    );
  } else {
    const username = env.KAFKA_SASL_USERNAME?.trim();
    if (!set(username))
      problems.push(`KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM=${mechanism}`);
    let password: string | undefined;
    if (set(env.KAFKA_SASL_PASSWORD) && set(env.KAFKA_SASL_PASSWORD_FILE)) {
      problems.push('KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: give one');
    } else if (set(env.KAFKA_SASL_PASSWORD)) {
      password = env.KAFKA_SASL_PASSWORD;
    } else if (set(env.KAFKA_SASL_PASSWORD_FILE)) {
      // A file (a mounted secret, say) ends with a newline the password does not have.
      password = fileOf(env, 'KAFKA_SASL_PASSWORD_FILE', problems)?.replace(/\r?\n$/, '');
    } else {
      problems.push(
        `KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM=${mechanism}`,
      );
    }
    if (mechanism === 'plain' && !tls) {
      problems.push('KAFKA_SASL_MECHANISM=plain sends the password as it is: it needs KAFKA_TLS=true');
    }
    if (set(username) && set(password)) {
      security.sasl = { mechanism: mechanism as Mechanism, username, password } as SASLOptions;
    }
  }
  return { problems, security: problems.length === 0 ? security : {} };
}

/** The connection settings the variables describe; a ConfigError with every problem when they do not. */
export function kafkaSecurityFrom(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const { problems, security } = readKafkaSecurity(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return security;
}
