import { brokerList, loadConfig, mongoUrl, port, str } from '@wxp/service-runtime';

export function subscriberProjectionConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    {
      SUBSCRIBER_PROJECTION_PORT: port({ default: 8082, desc: 'Port of /healthz and /metrics' }),
      BIND_HOST: str({ default: '127.0.0.1' }),
      KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
      MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
      PRIVACY_KEY: str({
        desc: 'Secret for the keyed hash read models file users under (at least 16 characters)',
      }),
      SUBSCRIBER_PROJECTION_GROUP: str({ default: 'subscriber-projection', desc: 'Kafka consumer group' }),
      SUBSCRIBERS_COLLECTION: str({ default: 'subscribers', desc: 'Collection holding the read model' }),
      FOLLOWER_COUNTS_COLLECTION: str({ default: 'follower_counts', desc: 'Collection holding the counts' }),
    },
    env,
  );
}

export type SubscriberProjectionConfig = ReturnType<typeof subscriberProjectionConfig>;
