import { brokerList, loadConfig, mongoUrl, port, str } from '@wxp/service-runtime';

export function qrAttributionConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    {
      QR_ATTRIBUTION_PORT: port({ default: 8083, desc: 'Port of /healthz and /metrics' }),
      BIND_HOST: str({ default: '127.0.0.1' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      PRIVACY_KEY: str({
        desc: 'Secret for the keyed hash read models file users under (at least 16 characters)',
      }),
      QR_ATTRIBUTION_GROUP: str({ default: 'qr-attribution', desc: 'Kafka consumer group' }),
      ATTRIBUTION_USERS_COLLECTION: str({ default: 'attribution_users' }),
      CAMPAIGN_COUNTS_COLLECTION: str({ default: 'campaign_counts' }),
    },
    env,
  );
}
