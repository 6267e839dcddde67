import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicCatalogue } from '@wxp/contracts';
import { createKafka, kafkaSecurityFrom, provisionTopics } from '@wxp/kafka';
import pino from 'pino';
import type { BrokerSecurity } from './broker-security';
import { startInfrastructure, type StartedInfrastructure } from './infrastructure';
import type { Report } from './kafka-broker';
import { ensurePrivateDir } from './private-dir';
import { repoRoot } from './repo-paths';
import { grantServiceAcls, serviceGrants } from './service-acls';
import { startSupervisedProcess, waitUntilReady, type SupervisedProcess } from './supervised-process';

/**
 * What the stack hands out that grants access: the store's URL (it may carry a password), the
 * accounts file (every account's appSecret, token and AES key), the admin token and the privacy key.
 */
export const stackCredentials = ['MONGO_URL', 'WECHAT_ACCOUNTS_FILE', 'ADMIN_TOKEN', 'PRIVACY_KEY'] as const;
export type StackCredential = (typeof stackCredentials)[number];

/**
 * The services of the local stack, in start order, with the variable naming each one's HTTP port
 * and the credentials each one uses: a service is given those and no other.
 */
export const stackServices = [
  // The emulator stands in for WeChat; production talks to api.weixin.qq.com instead.
  {
    name: 'wechat-emulator',
    portVariable: 'WECHAT_EMULATOR_PORT',
    defaultPort: 8089,
    production: false,
    credentials: ['WECHAT_ACCOUNTS_FILE'],
  },
  {
    name: 'subscriber-projection',
    portVariable: 'SUBSCRIBER_PROJECTION_PORT',
    defaultPort: 8082,
    production: true,
    credentials: ['MONGO_URL', 'PRIVACY_KEY'],
  },
  {
    name: 'qr-attribution',
    portVariable: 'QR_ATTRIBUTION_PORT',
    defaultPort: 8083,
    production: true,
    credentials: ['MONGO_URL', 'PRIVACY_KEY'],
  },
  {
    name: 'menu-responder',
    portVariable: 'MENU_RESPONDER_PORT',
    defaultPort: 8084,
    production: true,
    credentials: ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  },
  {
    name: 'profile-enricher',
    portVariable: 'PROFILE_ENRICHER_PORT',
    defaultPort: 8085,
    production: true,
    credentials: ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  },
  {
    name: 'admin-api',
    portVariable: 'ADMIN_PORT',
    defaultPort: 8081,
    production: true,
    credentials: ['MONGO_URL', 'ADMIN_TOKEN', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  },
  {
    name: 'gateway',
    portVariable: 'GATEWAY_PORT',
    defaultPort: 8080,
    production: true,
    credentials: ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  },
] as const satisfies readonly {
  name: string;
  portVariable: string;
  defaultPort: number;
  production: boolean;
  credentials: readonly StackCredential[];
}[];

export type StackService = (typeof stackServices)[number];

/**
 * The environment one service of the stack runs with: the shared settings, its port, and of the
 * stack's credentials only those it uses. The caller's own values of the others are withheld too.
 */
export function serviceEnvironment(
  service: StackService,
  shared: NodeJS.ProcessEnv,
  credentials: Record<StackCredential, string>,
  port: number,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...shared };
  for (const name of stackCredentials) delete env[name];
  for (const name of service.credentials) env[name] = credentials[name];
  env[service.portVariable] = String(port);
  return env;
}

/**
 * Starts one service of the stack under the supervisor, its pid in `<dataDir>/<name>.pid`:
 * `kill -HUP $(cat .data/<name>.pid)` reaches the service, which reloads its accounts file.
 */
export function startStackService(
  service: StackService,
  env: NodeJS.ProcessEnv,
  dataDir: string,
): SupervisedProcess {
  return startSupervisedProcess({
    name: service.name,
    command: process.execPath,
    args: [join(repoRoot(), 'services', service.name, 'dist', 'main.js')],
    env,
    logFile: join(dataDir, 'logs', `${service.name}.log`),
    pidFile: join(dataDir, `${service.name}.pid`),
    graceSeconds: 20,
    onHangup: 'forward',
  });
}

/** Resolves once a started service's /healthz answers 200, which means its dependencies answer too. */
export function serviceHealthy(proc: SupervisedProcess, port: number): Promise<void> {
  return waitUntilReady(
    proc,
    async () => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (!response.ok) throw new Error(`healthz answered ${response.status}`);
    },
    60_000,
  );
}

/**
 * Creates the platform's topics; on the stack's secure broker, as its admin user, and grants each
 * service its ACLs. Elsewhere the client connects as KAFKA_SASL_* and KAFKA_TLS* say.
 */
export async function provisionAllTopics(
  brokers: string[],
  security?: BrokerSecurity,
  options: { grantAcls?: boolean } = {},
): Promise<void> {
  const logger = pino({ level: 'warn' });
  const kafka = createKafka({
    brokers,
    clientId: 'devstack',
    logger,
    ...(security ? { security: kafkaSecurityFrom(security.clientEnvironment('admin')) } : {}),
  });
  await provisionTopics(kafka, topicCatalogue, logger);
  if (security || options.grantAcls) await grantServiceAcls(kafka);
}

/** A demo account for local use, written once; WeChat's emulator and the gateway share it. */
function ensureAccountsFile(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.WECHAT_ACCOUNTS_FILE) return env.WECHAT_ACCOUNTS_FILE;
  const file = join(dataDir, 'accounts.json');
  if (!existsSync(file)) {
    const account = {
      appId: 'wx' + randomBytes(8).toString('hex'),
      appSecret: randomBytes(16).toString('hex'),
      token: randomBytes(12).toString('hex'),
      encodingAESKey: randomBytes(32).toString('base64').slice(0, 43),
      encryptMode: 'plain',
      format: 'xml',
      originalId: 'gh_' + randomBytes(6).toString('hex'),
      // Replies inside the answer need no verified service account: what most accounts can use.
      replyChannel: 'passive',
    };
    writeFileSync(file, `${JSON.stringify([account], null, 2)}\n`, { mode: 0o600 });
  }
  return file;
}

/** A secret kept in the data folder unless the environment gives one: the admin token, the privacy key. */
function ensureSecret(dataDir: string, env: NodeJS.ProcessEnv, variable: string, file: string): string {
  const given = env[variable];
  if (given) return given;
  const path = join(dataDir, file);
  if (!existsSync(path)) writeFileSync(path, randomBytes(24).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

export interface RunningStack {
  infrastructure: StartedInfrastructure;
  services: SupervisedProcess[];
  lines: string[];
  stop(): Promise<void>;
}

/** Everything `npm start` runs: broker, store, topics, and one process per service. */
export async function startLocalStack(options: {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  report: Report;
  /** The broker takes only SCRAM over TLS, each service connecting as its own user under its ACLs. */
  secureKafka?: boolean;
  /** Three Kafka nodes at replication 3 instead of one broker (infrastructure.ts). */
  kafkaCluster?: boolean;
}): Promise<RunningStack> {
  const env = options.env ?? process.env;
  const { dataDir, report } = options;
  ensurePrivateDir(dataDir);
  ensurePrivateDir(join(dataDir, 'logs'));
  const infrastructure = await startInfrastructure({
    dataDir,
    env,
    report,
    ...(options.secureKafka ? { secureKafka: true } : {}),
    ...(options.kafkaCluster ? { kafkaCluster: true } : {}),
  });
  const services: SupervisedProcess[] = [];
  const stop = async () => {
    // Services first (side by side: none depends on another to shut down), then what they use.
    await Promise.all(services.map((service) => service.stop()));
    await infrastructure.stop();
  };
  try {
    const kafkaSecurity = infrastructure.kafkaSecurity;
    await provisionAllTopics(infrastructure.kafkaBrokers, kafkaSecurity);
    const credentials: Record<StackCredential, string> = {
      MONGO_URL: infrastructure.mongoUrl,
      WECHAT_ACCOUNTS_FILE: ensureAccountsFile(dataDir, env),
      ADMIN_TOKEN: ensureSecret(dataDir, env, 'ADMIN_TOKEN', 'admin-token'),
      PRIVACY_KEY: ensureSecret(dataDir, env, 'PRIVACY_KEY', 'privacy-key'),
    };
    const shared: NodeJS.ProcessEnv = { ...env, KAFKA_BROKERS: infrastructure.kafkaBrokers.join(',') };
    const portOf = (service: StackService) => Number(env[service.portVariable] ?? service.defaultPort);
    const [emulator] = stackServices;
    const gateway = stackServices[stackServices.length - 1] as StackService;
    const emulatorOff = env.WECHAT_EMULATOR === 'off';
    // Named here, for the stack's children only: the services themselves have no default.
    shared.WECHAT_API_BASE ??= `http://127.0.0.1:${portOf(emulator)}`;
    shared.GATEWAY_URL ??= `http://127.0.0.1:${portOf(gateway)}`;
    const lines = [...infrastructure.parts];
    for (const service of stackServices) {
      if (service.name === 'wechat-emulator' && emulatorOff) continue;
      const port = portOf(service);
      const serviceEnv = serviceEnvironment(service, shared, credentials, port);
      // On the secure broker each service is its own user; the emulator plays WeChat and has none.
      if (kafkaSecurity && serviceGrants[service.name])
        Object.assign(serviceEnv, kafkaSecurity.clientEnvironment(service.name));
      const proc = startStackService(service, serviceEnv, dataDir);
      services.push(proc);
      await serviceHealthy(proc, port);
      lines.push(`${service.name}: http://127.0.0.1:${port} (log ${proc.logFile})`);
    }
    lines.push(`WeChat API: ${shared.WECHAT_API_BASE}${emulatorOff ? ' (emulator off)' : ''}`);
    lines.push(`accounts: ${credentials.WECHAT_ACCOUNTS_FILE}`);
    lines.push(`admin token: ${env.ADMIN_TOKEN ? 'from ADMIN_TOKEN' : join(dataDir, 'admin-token')}`);
    return { infrastructure, services, lines, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
