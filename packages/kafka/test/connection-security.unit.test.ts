import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaSecurityFrom, readKafkaSecurity } from '../src/connection-security';

const dir = mkdtempSync(join(tmpdir(), 'wxp-kafka-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const certificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const privateKey = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const password = 'correct-horse-battery-staple';

describe('the connection settings from the environment', () => {
  it('are none when nothing is set: a plaintext connection without credentials, as before', () => {
    expect(kafkaSecurityFrom({})).toEqual({});
  });

  it('authenticate with SCRAM and check the broker against the given CA', () => {
    const ca = file('ca.pem', certificate);
    expect(
      kafkaSecurityFrom({
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'gateway',
        KAFKA_SASL_PASSWORD: password,
        KAFKA_TLS: 'true',
        KAFKA_TLS_CA_FILE: ca,
      }),
    ).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'gateway', password },
      ssl: { rejectUnauthorized: true, ca: [certificate] },
    });
  });

  it('read the password from a file without its final newline, and take TLS from a CA file alone', () => {
    const security = kafkaSecurityFrom({
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'projection',
      KAFKA_SASL_PASSWORD_FILE: file('password', `${password}\n`),
      KAFKA_TLS_CA_FILE: file('ca2.pem', certificate),
    });
    expect(security.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'projection', password });
    expect(security.ssl?.rejectUnauthorized).toBe(true);
  });

  it('present a client certificate when given one with its key', () => {
    const security = kafkaSecurityFrom({
      KAFKA_TLS: 'true',
      KAFKA_TLS_CERT_FILE: file('client.pem', certificate),
      KAFKA_TLS_KEY_FILE: file('client.key', privateKey),
    });
    expect(security.ssl).toEqual({ rejectUnauthorized: true, cert: certificate, key: privateKey });
  });

  it.each([
    [{ KAFKA_SASL_MECHANISM: 'gssapi' }, /KAFKA_SASL_MECHANISM must be one of .* \(got "gssapi"\)/],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password }, /set but KAFKA_SASL_MECHANISM is not/],
    [
      { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: password },
      /KAFKA_SASL_USERNAME is required/,
    ],
    [
      { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' },
      /KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is required/,
    ],
    [
      {
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: password,
        KAFKA_SASL_PASSWORD_FILE: '/x',
      },
      /both set: give one/,
    ],
    [
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password },
      /plain .* needs KAFKA_TLS=true/,
    ],
    [{ KAFKA_TLS: 'yes' }, /KAFKA_TLS must be true or false/],
    [{ KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: '/etc/hostname' }, /KAFKA_TLS is false but/],
    [{ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: '/etc/hostname' }, /go together/],
    [{ KAFKA_TLS_CA_FILE: join(dir, 'missing.pem') }, /KAFKA_TLS_CA_FILE names a file that cannot be read/],
    [{ KAFKA_TLS_CA_FILE: '/etc/hostname' }, /KAFKA_TLS_CA_FILE is not a PEM file/],
  ])('are refused, naming the variable, when %j', (env, problem) => {
    const { problems, security } = readKafkaSecurity(env);
    expect(problems.join('\n')).toMatch(problem);
    expect(security).toEqual({});
    expect(() => kafkaSecurityFrom(env)).toThrow(/invalid configuration/);
  });

  it('never show a password, even in the problems of a configuration that has them', () => {
    const passwordFile = file('secret', password);
    for (const env of [
      { KAFKA_SASL_MECHANISM: 'bogus', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password },
      { KAFKA_SASL_PASSWORD: password },
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password },
      { KAFKA_TLS_CA_FILE: passwordFile, KAFKA_TLS_KEY_FILE: passwordFile },
    ]) {
      const error = (() => {
        try {
          kafkaSecurityFrom(env);
        } catch (e) {
          return e as Error;
        }
        throw new Error(`accepted ${Object.keys(env).join(', ')}`);
      })();
      expect(error.message).not.toContain(password);
      expect(error.message).not.toContain('correct-horse');
    }
  });
});
