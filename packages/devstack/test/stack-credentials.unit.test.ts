import {
  serviceEnvironment,
  stackCredentials,
  stackServices,
  type StackCredential,
} from '../src/local-stack';

const credentials: Record<StackCredential, string> = {
  MONGO_URL: 'mongodb://127.0.0.1:27017/wechat',
  WECHAT_ACCOUNTS_FILE: '/data/accounts.json',
  ADMIN_TOKEN: 'the-admin-token-0123456789',
  PRIVACY_KEY: 'the-privacy-key-0123456789',
};

// Written out rather than read from the stack's own table: this is the policy the table must keep.
const expected: Record<string, StackCredential[]> = {
  'wechat-emulator': ['WECHAT_ACCOUNTS_FILE'],
  'subscriber-projection': ['MONGO_URL', 'PRIVACY_KEY'],
  'qr-attribution': ['MONGO_URL', 'PRIVACY_KEY'],
  'menu-responder': ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  'profile-enricher': ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  'admin-api': ['MONGO_URL', 'ADMIN_TOKEN', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
  // The gateway seals each event with its user's data key, kept in the store under PRIVACY_KEY.
  gateway: ['MONGO_URL', 'PRIVACY_KEY', 'WECHAT_ACCOUNTS_FILE'],
};

describe('the environment the local stack gives each service', () => {
  // The developer's shell may hold any of them: a service gets the stack's, and only its own.
  const shell: NodeJS.ProcessEnv = {
    PATH: '/usr/bin',
    LOG_LEVEL: 'debug',
    KAFKA_BROKERS: '127.0.0.1:9092',
    ADMIN_TOKEN: 'from-the-shell-0123456789',
    PRIVACY_KEY: 'from-the-shell-0123456789',
    MONGO_URL: 'mongodb://shell:pw@elsewhere/db',
    WECHAT_ACCOUNTS_FILE: '/home/me/production-accounts.json',
  };

  it('covers every service', () => {
    expect(stackServices.map((s) => s.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(stackServices.map((s) => [s.name, s] as const))(
    'holds only the secrets %s uses',
    (name, service) => {
      const env = serviceEnvironment(service, shell, credentials, 4321);
      const given = stackCredentials.filter((c) => env[c] !== undefined);
      expect(given.sort()).toEqual([...(expected[name] ?? [])].sort());
      for (const c of given) expect(env[c]).toBe(credentials[c]);
      expect(env[service.portVariable]).toBe('4321');
      expect(env.PATH).toBe('/usr/bin');
      expect(env.LOG_LEVEL).toBe('debug');
    },
  );

  it('gives the admin token to the admin API alone, and neither it nor the privacy key to the emulator', () => {
    const holders = (variable: StackCredential) =>
      stackServices
        .filter((s) => serviceEnvironment(s, shell, credentials, 1)[variable] !== undefined)
        .map((s) => s.name);
    expect(holders('ADMIN_TOKEN')).toEqual(['admin-api']);
    // The emulator plays WeChat, which must never hold what turns pseudonyms back into people.
    expect(holders('PRIVACY_KEY')).toEqual(
      stackServices.map((s) => s.name).filter((n) => n !== 'wechat-emulator'),
    );
    expect(holders('MONGO_URL')).not.toContain('wechat-emulator');
  });
});
