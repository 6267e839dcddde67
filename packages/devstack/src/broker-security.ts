import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToCompletion } from './build-command';

/** A user the broker knows by SCRAM-SHA-512, with the password a client gives. */
export interface ScramUser {
  name: string;
  password: string;
}

/**
 * What a local broker needs to take only authenticated, encrypted connections: a TLS key pair for
 * 127.0.0.1 (self-signed, so the certificate is its own CA), SCRAM users, and the properties and
 * format arguments that use them. Made once per data directory and kept with it: the users are
 * written into the cluster's metadata when it is formatted.
 */
export interface BrokerSecurity {
  /** The certificate clients trust, PEM (KAFKA_TLS_CA_FILE). */
  caFile: string;
  /** `admin` first: the broker's own user, a super user. */
  users: ScramUser[];
  userNamed(name: string): ScramUser;
  /** A file (0600) holding the user's password, for KAFKA_SASL_PASSWORD_FILE. */
  passwordFileOf(name: string): string;
  /** The variables a Kafka client of the platform connects as `name` with. */
  clientEnvironment(name: string): Record<string, string>;
  /** Appended to server.properties: later keys win over the plaintext listener of the template. */
  properties(port: number, controllerPort: number): string;
  /** `--add-scram` arguments for `kafka-storage format`. */
  formatArguments(): string[];
}

const BROKER_USER = 'admin';
const CERTIFICATE_DN = 'CN=127.0.0.1, O=wxp local broker';
/** The distinguished name as Kafka's principal builder writes it (RFC 2253: no spaces). */
const CERTIFICATE_PRINCIPAL = 'CN=127.0.0.1,O=wxp local broker';

function secret(): string {
  // Hex: nothing a properties file, a JAAS line or --add-scram would need quoting for.
  return randomBytes(24).toString('hex');
}

/** The users' passwords and the store password, kept in the data directory (mode 0600). */
function loadOrMakeSecrets(dir: string, names: string[]): { store: string; users: ScramUser[] } {
  const file = join(dir, 'secrets.json');
  const known: { store?: string; users?: Record<string, string> } = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { store?: string; users?: Record<string, string> })
    : {};
  const users: Record<string, string> = { ...known.users };
  for (const name of [BROKER_USER, ...names]) users[name] ??= secret();
  const store = known.store ?? secret();
  writeFileSync(file, JSON.stringify({ store, users }, null, 2), { mode: 0o600 });
  return {
    store,
    users: [BROKER_USER, ...names.filter((n) => n !== BROKER_USER)].map((name) => ({
      name,
      password: users[name]!,
    })),
  };
}

/**
 * Makes (or finds) the key pair and users in `dir`. keytool comes with the JDK the broker runs on;
 * the certificate names 127.0.0.1 and localhost, which clients check it against.
 */
export async function prepareBrokerSecurity(dir: string, userNames: string[]): Promise<BrokerSecurity> {
  const { store, users } = loadOrMakeSecrets(dir, userNames);
  const keystore = join(dir, 'broker.p12');
  const truststore = join(dir, 'truststore.p12');
  const caFile = join(dir, 'ca.pem');
  const log = { logFile: join(dir, 'keytool.log'), privateFiles: true };
  if (!existsSync(keystore)) {
    await runToCompletion(
      'keytool',
      [
        '-genkeypair',
        '-alias',
        'broker',
        '-keyalg',
        'RSA',
        '-keysize',
        '2048',
        '-validity',
        '3650',
        '-dname',
        CERTIFICATE_DN,
        '-ext',
        'SAN=IP:127.0.0.1,DNS:localhost',
        '-keystore',
        keystore,
        '-storetype',
        'PKCS12',
        '-storepass',
        store,
        '-keypass',
        store,
      ],
      log,
    );
  }
  if (!existsSync(caFile)) {
    await runToCompletion(
      'keytool',
      [
        '-exportcert',
        '-rfc',
        '-alias',
        'broker',
        '-keystore',
        keystore,
        '-storepass',
        store,
        '-file',
        caFile,
      ],
      log,
    );
  }
  if (!existsSync(truststore)) {
    await runToCompletion(
      'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'broker',
        '-file',
        caFile,
        '-keystore',
        truststore,
        '-storetype',
        'PKCS12',
        '-storepass',
        store,
      ],
      log,
    );
  }
  const broker = users[0]!;
  const userNamed = (name: string): ScramUser => {
    const user = users.find((u) => u.name === name);
    if (!user) throw new Error(`the local broker has no user ${name}`);
    return user;
  };
  const passwordFileOf = (name: string): string => {
    const file = join(dir, `${name}.password`);
    writeFileSync(file, `${userNamed(name).password}\n`, { mode: 0o600 });
    return file;
  };
  return {
    caFile,
    users,
    userNamed,
    passwordFileOf,
    clientEnvironment: (name) => ({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: name,
      KAFKA_SASL_PASSWORD_FILE: passwordFileOf(name),
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: caFile,
    }),
    properties: (port, controllerPort) => `
# Authenticated and encrypted: SCRAM-SHA-512 over TLS for clients and for the broker itself.
listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=SASL_SSL://127.0.0.1:${port}
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
# Only a holder of the broker's key may speak to its controller.
listener.name.controller.ssl.client.auth=required
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${broker.name}" password="${broker.password}";
ssl.keystore.type=PKCS12
ssl.keystore.location=${keystore}
ssl.keystore.password=${store}
ssl.key.password=${store}
ssl.truststore.type=PKCS12
ssl.truststore.location=${truststore}
ssl.truststore.password=${store}
# Who may do what: ACLs; the broker's own user and its certificate (the controller's clients) excepted.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:${broker.name};User:${CERTIFICATE_PRINCIPAL}
allow.everyone.if.no.acl.found=false
`,
    formatArguments: () =>
      users.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`]),
  };
}
