import { defaultReplayMemoryEntries } from './signed-query-memory';
import {
  ConfigError,
  brokerList,
  loadConfig,
  mongoUrl,
  num,
  port,
  str,
  type HttpServerLimits,
} from '@wxp/service-runtime';

/** Whole numbers from 1 up; the names of those that are not, one per line. */
function wholePositive(values: Record<string, number>): string[] {
  return Object.entries(values)
    .filter(([, value]) => !Number.isInteger(value) || value < 1)
    .map(([name]) => `${name} must be a whole number of at least 1`);
}

/**
 * The gateway's server limits unless configured: well under the 5 s WeChat waits for an answer, since
 * an honest push is a few hundred bytes sent at once.
 */
export const gatewayServerDefaults: Readonly<HttpServerLimits> = {
  headersTimeoutMs: 2000,
  requestTimeoutMs: 3000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 1000,
};

/** How long WeChat waits for an answer before it drops the connection and tries again. */
const WECHAT_WAITS_MS = 5000;

export function gatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(
    {
      GATEWAY_PORT: port({ default: 8080, desc: 'Port of the WeChat push endpoint' }),
      BIND_HOST: str({ default: '127.0.0.1', desc: 'Address to listen on (0.0.0.0 in a container)' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({
        default: 'mongodb://127.0.0.1:27017/wechat',
        desc: "The store of users' data keys",
      }),
      PRIVACY_KEY: str({
        desc: 'Secret of the pseudonyms and of the wrapping of data keys (at least 16 characters)',
      }),
      PRIVACY_KEY_CACHE_SECONDS: num({
        default: 30,
        desc: 'How long a data key read from the store is trusted without asking again',
      }),
      WECHAT_ACCOUNTS_FILE: str({ desc: 'JSON file listing the accounts this gateway serves' }),
      GATEWAY_MAX_BODY_BYTES: num({ default: 64 * 1024, desc: 'Largest push body accepted' }),
      GATEWAY_MAX_CLOCK_SKEW_SECONDS: num({ default: 300, desc: 'How far a push timestamp may be from now' }),
      GATEWAY_ACK_TIMEOUT_MS: num({
        default: 4000,
        desc: 'How long to wait for the broker before answering 503 (WeChat gives up after 5 s)',
      }),
      GATEWAY_HEADERS_TIMEOUT_MS: num({
        default: gatewayServerDefaults.headersTimeoutMs,
        desc: "Time a client has to send a request's headers",
      }),
      GATEWAY_REQUEST_TIMEOUT_MS: num({
        default: gatewayServerDefaults.requestTimeoutMs,
        desc: 'Time a client has to send a whole request, body included',
      }),
      GATEWAY_MAX_CONNECTIONS: num({
        default: gatewayServerDefaults.maxConnections,
        desc: 'Connections open at once; more are closed',
      }),
      GATEWAY_REPLAY_MEMORY_ENTRIES: num({
        default: defaultReplayMemoryEntries,
        desc: 'Signed plain-mode queries remembered against replay (about 125 bytes each)',
      }),
    },
    env,
  );
  const problems = wholePositive({
    GATEWAY_MAX_BODY_BYTES: config.GATEWAY_MAX_BODY_BYTES,
    GATEWAY_MAX_CLOCK_SKEW_SECONDS: config.GATEWAY_MAX_CLOCK_SKEW_SECONDS,
    GATEWAY_ACK_TIMEOUT_MS: config.GATEWAY_ACK_TIMEOUT_MS,
    GATEWAY_HEADERS_TIMEOUT_MS: config.GATEWAY_HEADERS_TIMEOUT_MS,
    GATEWAY_REQUEST_TIMEOUT_MS: config.GATEWAY_REQUEST_TIMEOUT_MS,
    GATEWAY_MAX_CONNECTIONS: config.GATEWAY_MAX_CONNECTIONS,
    GATEWAY_REPLAY_MEMORY_ENTRIES: config.GATEWAY_REPLAY_MEMORY_ENTRIES,
    PRIVACY_KEY_CACHE_SECONDS: config.PRIVACY_KEY_CACHE_SECONDS,
  });
  if (config.PRIVACY_KEY.length < 16) problems.push('PRIVACY_KEY must be at least 16 characters');
  if (config.GATEWAY_ACK_TIMEOUT_MS >= WECHAT_WAITS_MS) {
    problems.push('GATEWAY_ACK_TIMEOUT_MS must be under 5000: WeChat gives up on an answer after 5 s');
  }
  if (config.GATEWAY_HEADERS_TIMEOUT_MS > config.GATEWAY_REQUEST_TIMEOUT_MS) {
    problems.push('GATEWAY_HEADERS_TIMEOUT_MS must not be more than GATEWAY_REQUEST_TIMEOUT_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export type GatewayConfig = ReturnType<typeof gatewayConfig>;

export function gatewayServerLimits(config: GatewayConfig): HttpServerLimits {
  return {
    ...gatewayServerDefaults,
    headersTimeoutMs: config.GATEWAY_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    maxConnections: config.GATEWAY_MAX_CONNECTIONS,
  };
}

/** The app's bounds on each push, from the configuration: one mapping for every way the app is run. */
export function gatewayPushLimits(config: GatewayConfig) {
  return {
    maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    maxClockSkewSeconds: config.GATEWAY_MAX_CLOCK_SKEW_SECONDS,
    ackTimeoutMs: config.GATEWAY_ACK_TIMEOUT_MS,
    replayMemoryEntries: config.GATEWAY_REPLAY_MEMORY_ENTRIES,
  };
}
