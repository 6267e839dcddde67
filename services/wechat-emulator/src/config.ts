import { loadConfig, num, port, str, url } from '@wxp/service-runtime';

export function emulatorConfig(env: NodeJS.ProcessEnv = process.env) {
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
