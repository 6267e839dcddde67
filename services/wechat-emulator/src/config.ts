import { ConfigError, loadConfig, num, port, str, url } from '@wxp/service-runtime';

/** WeChat's own API hosts: services pointed there run against real accounts. */
const realWechat = /(^|\.)(weixin\.qq\.com|wechat\.com)$/i;

/**
 * The emulator answers token requests for whatever accounts it is given and holds their secrets in
 * memory, open to anyone who can reach its port. It refuses to start where it could meet real
 * accounts: in a deployment marked WXP_DEPLOYMENT=production, or beside services whose
 * WECHAT_API_BASE is WeChat's real API.
 */
export function refuseProduction(env: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  if (env.WXP_DEPLOYMENT?.trim().toLowerCase() === 'production') {
    problems.push('WXP_DEPLOYMENT is production: the WeChat emulator does not run in production');
  }
  let apiHost: string | undefined;
  try {
    // A name's trailing dot (the DNS root) still names WeChat's host.
    apiHost = env.WECHAT_API_BASE ? new URL(env.WECHAT_API_BASE).hostname.replace(/\.+$/, '') : undefined;
  } catch {
    apiHost = undefined;
  }
  if (apiHost && realWechat.test(apiHost)) {
    problems.push(
      `WECHAT_API_BASE is WeChat's real API (${apiHost}): the emulator does not run beside real accounts ` +
        '(the local stack: set WECHAT_EMULATOR=off)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

export function emulatorConfig(env: NodeJS.ProcessEnv = process.env) {
  refuseProduction(env);
  return loadConfig(
    {
      WECHAT_EMULATOR_PORT: port({ default: 8089 }),
      BIND_HOST: str({ default: '127.0.0.1' }),
      WECHAT_ACCOUNTS_FILE: str({ desc: 'The accounts the emulator knows, shared with the gateway' }),
      GATEWAY_URL: url({ default: 'http://127.0.0.1:8080', desc: 'Where simulated pushes go' }),
      EMULATOR_TOKEN_TTL_SECONDS: num({ default: 7200 }),
      EMULATOR_TOKEN_OVERLAP_SECONDS: num({ default: 300, desc: 'How long a replaced token keeps working' }),
      EMULATOR_PUSH_TIMEOUT_MS: num({ default: 5000, desc: 'How long a simulated push waits, like WeChat' }),
      EMULATOR_PUSH_RETRY_DELAY_MS: num({ default: 0, desc: 'Pause before a retried push' }),
    },
    env,
  );
}

export type EmulatorConfig = ReturnType<typeof emulatorConfig>;
