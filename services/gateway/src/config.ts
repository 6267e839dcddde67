import { brokerList, loadConfig, num, port, str } from '@wxp/service-runtime';

export function gatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    {
      GATEWAY_PORT: port({ default: 8080, desc: 'Port of the WeChat push endpoint' }),
      BIND_HOST: str({ default: '127.0.0.1', desc: 'Address to listen on (0.0.0.0 in a container)' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      WECHAT_ACCOUNTS_FILE: str({ desc: 'JSON file listing the accounts this gateway serves' }),
      GATEWAY_MAX_BODY_BYTES: num({ default: 64 * 1024, desc: 'Largest push body accepted' }),
      GATEWAY_MAX_CLOCK_SKEW_SECONDS: num({ default: 300, desc: 'How far a push timestamp may be from now' }),
      GATEWAY_ACK_TIMEOUT_MS: num({
        default: 4000,
        desc: 'How long to wait for the broker before answering 503 (WeChat gives up after 5 s)',
      }),
    },
    env,
  );
}

export type GatewayConfig = ReturnType<typeof gatewayConfig>;
