import { ConfigError, brokerList, loadConfig, mongoUrl, port, str } from '@wxp/service-runtime';

const specs = {
  GATEWAY_PORT: port({ default: 8080 }),
  KAFKA_BROKERS: brokerList({ default: ['127.0.0.1:9092'] }),
  MONGO_URL: mongoUrl({ default: 'mongodb://127.0.0.1:27017/wechat' }),
  WECHAT_ACCOUNTS_FILE: str(),
};

describe('configuration from the environment', () => {
  it('applies defaults and parses values', () => {
    const config = loadConfig(specs, { WECHAT_ACCOUNTS_FILE: 'a.json', KAFKA_BROKERS: 'k1:9092, k2:9093' });
    expect(config.GATEWAY_PORT).toBe(8080);
    expect(config.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9093']);
    expect(config.MONGO_URL).toBe('mongodb://127.0.0.1:27017/wechat');
  });

  it('reports every bad value on its own line, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig(specs, { GATEWAY_PORT: 'eighty', KAFKA_BROKERS: 'localhost', MONGO_URL: 'postgres://x/y' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('GATEWAY_PORT'))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('KAFKA_BROKERS'))).toContain('is not host:port');
    expect(problems.find((p) => p.startsWith('MONGO_URL'))).toContain('mongodb://');
    expect(problems.find((p) => p.startsWith('WECHAT_ACCOUNTS_FILE'))).toBe(
      'WECHAT_ACCOUNTS_FILE is required',
    );
    for (const problem of problems) expect(problem).not.toContain('\n');
  });
});
