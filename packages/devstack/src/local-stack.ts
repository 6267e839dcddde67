import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicCatalogue } from '@wxp/contracts';
import { createKafka, provisionTopics } from '@wxp/kafka';
import pino from 'pino';
import { startInfrastructure, type StartedInfrastructure } from './infrastructure';
import type { Report } from './kafka-broker';
import { repoRoot } from './repo-paths';
import { startSupervisedProcess, waitUntilReady, type SupervisedProcess } from './supervised-process';

/** The services of the local stack, in start order, with the variable naming each one's HTTP port. */
export const stackServices = [
  // The emulator stands in for WeChat; production talks to api.weixin.qq.com instead.
  { name: 'wechat-emulator', portVariable: 'WECHAT_EMULATOR_PORT', defaultPort: 8089, production: false },
  {
    name: 'subscriber-projection',
    portVariable: 'SUBSCRIBER_PROJECTION_PORT',
    defaultPort: 8082,
    production: true,
  },
  { name: 'qr-attribution', portVariable: 'QR_ATTRIBUTION_PORT', defaultPort: 8083, production: true },
  { name: 'menu-responder', portVariable: 'MENU_RESPONDER_PORT', defaultPort: 8084, production: true },
  { name: 'profile-enricher', portVariable: 'PROFILE_ENRICHER_PORT', defaultPort: 8085, production: true },
  { name: 'admin-api', portVariable: 'ADMIN_PORT', defaultPort: 8081, production: true },
  { name: 'gateway', portVariable: 'GATEWAY_PORT', defaultPort: 8080, production: true },
] as const;

export async function provisionAllTopics(brokers: string[]): Promise<void> {
  const logger = pino({ level: 'warn' });
  await provisionTopics(createKafka({ brokers, clientId: 'devstack', logger }), topicCatalogue, logger);
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
}): Promise<RunningStack> {
  const env = options.env ?? process.env;
  const { dataDir, report } = options;
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const infrastructure = await startInfrastructure({ dataDir, env, report });
  const services: SupervisedProcess[] = [];
  const stop = async () => {
    // Services first (side by side: none depends on another to shut down), then what they use.
    await Promise.all(services.map((service) => service.stop()));
    await infrastructure.stop();
  };
  try {
    await provisionAllTopics(infrastructure.kafkaBrokers);
    const serviceEnv: NodeJS.ProcessEnv = {
      ...env,
      KAFKA_BROKERS: infrastructure.kafkaBrokers.join(','),
      MONGO_URL: infrastructure.mongoUrl,
      WECHAT_ACCOUNTS_FILE: ensureAccountsFile(dataDir, env),
      ADMIN_TOKEN: ensureSecret(dataDir, env, 'ADMIN_TOKEN', 'admin-token'),
      PRIVACY_KEY: ensureSecret(dataDir, env, 'PRIVACY_KEY', 'privacy-key'),
    };
    const portOf = (service: (typeof stackServices)[number]) =>
      Number(env[service.portVariable] ?? service.defaultPort);
    const [emulator] = stackServices;
    const gateway = stackServices[stackServices.length - 1] as (typeof stackServices)[number];
    const emulatorOff = env.WECHAT_EMULATOR === 'off';
    serviceEnv.WECHAT_API_BASE ??= `http://127.0.0.1:${portOf(emulator)}`;
    serviceEnv.GATEWAY_URL ??= `http://127.0.0.1:${portOf(gateway)}`;
    const lines = [...infrastructure.parts];
    for (const service of stackServices) {
      if (service.name === 'wechat-emulator' && emulatorOff) continue;
      const port = portOf(service);
      const entry = join(repoRoot(), 'services', service.name, 'dist', 'main.js');
      const proc = startSupervisedProcess({
        name: service.name,
        command: process.execPath,
        args: [entry],
        env: { ...serviceEnv, [service.portVariable]: String(port) },
        logFile: join(dataDir, 'logs', `${service.name}.log`),
        pidFile: join(dataDir, `${service.name}.pid`),
        graceSeconds: 20,
      });
      services.push(proc);
      await waitUntilReady(
        proc,
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (!response.ok) throw new Error(`healthz answered ${response.status}`);
        },
        60_000,
      );
      lines.push(`${service.name}: http://127.0.0.1:${port} (log ${proc.logFile})`);
    }
    lines.push(`WeChat API: ${serviceEnv.WECHAT_API_BASE}${emulatorOff ? ' (emulator off)' : ''}`);
    lines.push(`accounts: ${serviceEnv.WECHAT_ACCOUNTS_FILE}`);
    lines.push(`admin token: ${env.ADMIN_TOKEN ? 'from ADMIN_TOKEN' : join(dataDir, 'admin-token')}`);
    return { infrastructure, services, lines, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
