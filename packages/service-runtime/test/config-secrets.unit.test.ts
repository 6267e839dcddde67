import { isSecretVariable, loadConfig, maskCredentials, mongoUrl, str, url } from '@wxp/service-runtime';
import { configProblems } from '../../../test/support/config-problems';

const problemsOf = configProblems;

describe('configuration errors and credentials', () => {
  it('mask the user info of a bad connection string', () => {
    const [line] = problemsOf(() =>
      loadConfig({ MONGO_URL: mongoUrl() }, { MONGO_URL: 'mongodb://wxp:S3cretPassw0rd@db.internal:27017' }),
    );
    expect(line).toMatch(/^MONGO_URL /);
    expect(line).not.toContain('S3cretPassw0rd');
    expect(line).not.toContain('wxp:');
    expect(line).toContain('mongodb://***@db.internal:27017');
  });

  it('mask credentials a validator quotes in its own message, query parameters included', () => {
    const value = 'ftp//admin:hunter2@api.example.com/cgi-bin?access_token=T0KEN-VALUE&lang=zh';
    const [line] = problemsOf(() => loadConfig({ WECHAT_API_BASE: url() }, { WECHAT_API_BASE: value }));
    expect(line).toMatch(/^WECHAT_API_BASE /);
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('T0KEN-VALUE');
    expect(line).toContain('lang=zh');
  });

  it('never show any part of a secret variable, whatever the validator says', () => {
    const secret = 'an-admin-token-that-must-not-leak';
    const problems = problemsOf(() =>
      loadConfig(
        { ADMIN_TOKEN: str({ choices: ['other'] }), PRIVACY_KEY: url(), WEBHOOK_SECRET: url() },
        { ADMIN_TOKEN: secret, PRIVACY_KEY: secret, WEBHOOK_SECRET: secret },
      ),
    );
    expect(problems).toHaveLength(3);
    for (const line of problems) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain('must-not-leak');
    }
    expect(problems.find((p) => p.startsWith('ADMIN_TOKEN'))).toBeDefined();
  });

  it('keep every problem on one line, even for a value with line breaks', () => {
    const [line] = problemsOf(() =>
      loadConfig({ MONGO_URL: mongoUrl() }, { MONGO_URL: 'mongodb://u:p@h\nINJECTED line' }),
    );
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).not.toContain('u:p@');
  });

  it('tell secret variables from the others by name', () => {
    for (const name of ['ADMIN_TOKEN', 'PRIVACY_KEY', 'TOKEN_STORE_KEY', 'APP_SECRET', 'DB_PASSWORD'])
      expect(isSecretVariable(name)).toBe(true);
    for (const name of ['MONGO_URL', 'EMULATOR_TOKEN_TTL_SECONDS', 'GATEWAY_PORT', 'WECHAT_ACCOUNTS_FILE'])
      expect(isSecretVariable(name)).toBe(false);
  });

  it('mask user info without a scheme and sensitive parameters in any text', () => {
    expect(maskCredentials('broker user:pw@k1:9092 refused')).toBe('broker ***@k1:9092 refused');
    expect(maskCredentials('mongodb+srv://a:b@c/d?authMechanismProperties=AWS_SESSION_TOKEN:x&w=1')).toBe(
      'mongodb+srv://***@c/d?authMechanismProperties=***&w=1',
    );
    expect(maskCredentials('http://127.0.0.1:8089')).toBe('http://127.0.0.1:8089');
  });
});
