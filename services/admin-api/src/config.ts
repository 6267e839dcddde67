import { brokerList, loadConfig, mongoUrl, port, str } from '@wxp/service-runtime';

export function adminApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    {
      ADMIN_PORT: port({ default: 8081, desc: 'Port of the admin API and dashboard' }),
      BIND_HOST: str({ default: '127.0.0.1' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      ADMIN_TOKEN: str({ desc: 'Bearer credential every /api request must carry (at least 16 characters)' }),
      PRIVACY_KEY: str({ desc: 'The secret the projections file users under (at least 16 characters)' }),
    },
    env,
  );
}
