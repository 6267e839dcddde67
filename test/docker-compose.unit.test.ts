import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceGrants, stackServices } from '@wxp/devstack';
import { parse } from 'yaml';

// docker-compose.yml cannot run on these machines; this keeps it consistent with the code.
const root = join(__dirname, '..');

interface ComposeService {
  environment?: Record<string, unknown>;
  ports?: string[];
  image?: string;
  build?: unknown;
  networks?: string[];
  volumes?: string[];
  profiles?: string[];
  entrypoint?: string[];
  command?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean } | null>;
};

const internal = (network: string) => compose.networks[network]?.internal === true;
const kafkaStart = readFileSync(join(root, 'infra', 'compose', 'kafka-start.sh'), 'utf8');

describe('docker-compose.yml', () => {
  it('runs a KRaft Kafka broker and MongoDB as a replica set', () => {
    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(kafkaStart).toMatch(/^process\.roles=broker,controller$/m);
    expect(kafkaStart).toMatch(/^auto\.create\.topics\.enable=false$/m);
    expect(compose.services.mongo?.image).toMatch(/^mongo:/);
  });

  it('pins every image it pulls by digest, not by a tag that can move', () => {
    const images = Object.values(compose.services).flatMap((s) => (s.image ? [s.image] : []));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  const production = stackServices.filter((s) => s.production);

  it.each(production.map((s) => [s.name, s] as const))('has %s, wired like the local stack', (name, spec) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    expect(existsSync(join(root, 'services', name, 'src', 'main.ts'))).toBe(true);
    const env = service?.environment ?? {};
    expect(env.SERVICE).toBe(name);
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(env.BIND_HOST).toBe('0.0.0.0');
    expect(Number(env[spec.portVariable])).toBe(spec.defaultPort);
    for (const mapping of service?.ports ?? [])
      expect(mapping).toBe(`127.0.0.1:${spec.defaultPort}:${spec.defaultPort}`);
  });

  it.each(production.map((s) => [s.name, s] as const))(
    'gives %s only the credentials the local stack gives it',
    (name, spec) => {
      const service = compose.services[name];
      const env = service?.environment ?? {};
      const credentials: readonly string[] = spec.credentials;
      const has = (variable: string) => credentials.includes(variable);
      expect(env.MONGO_URL === undefined).toBe(!has('MONGO_URL'));
      if (has('MONGO_URL'))
        expect(String(env.MONGO_URL)).toBe(
          'mongodb://wxp:${MONGO_WXP_PASSWORD:?set MONGO_WXP_PASSWORD}@mongo:27017/wechat?replicaSet=rs0&authSource=admin',
        );
      expect(env.ADMIN_TOKEN === undefined).toBe(!has('ADMIN_TOKEN'));
      expect(env.PRIVACY_KEY === undefined).toBe(!has('PRIVACY_KEY'));
      const mountsAccounts = (service?.volumes ?? []).some((v) => v.endsWith(':/run/config:ro'));
      expect(mountsAccounts).toBe(has('WECHAT_ACCOUNTS_FILE'));
      expect(env.WECHAT_ACCOUNTS_FILE === undefined).toBe(!has('WECHAT_ACCOUNTS_FILE'));
    },
  );

  it('publishes only the gateway, and only to the host, for a TLS proxy in front of it', () => {
    expect(compose.services.gateway?.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const service of Object.values(compose.services))
      for (const mapping of service.ports ?? []) expect(mapping).toMatch(/^127\.0\.0\.1:/);
  });

  it('keeps the admin API off every published port, on an internal network of its own', () => {
    const admin = compose.services['admin-api'];
    expect(admin?.ports).toBeUndefined();
    expect(admin?.networks).toContain('admin');
    expect(internal('admin')).toBe(true);
    const others = Object.entries(compose.services).filter(([name]) => name !== 'admin-api');
    for (const [, service] of others) expect(service.networks ?? []).not.toContain('admin');
  });

  it('serves the metrics of the gateway and the admin API on ports apart from theirs, unpublished', () => {
    const gateway = compose.services.gateway?.environment ?? {};
    const admin = compose.services['admin-api']?.environment ?? {};
    expect(gateway.GATEWAY_METRICS_PORT).toBeDefined();
    expect(gateway.GATEWAY_METRICS_PORT).not.toBe(gateway.GATEWAY_PORT);
    expect(admin.ADMIN_METRICS_PORT).toBeDefined();
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    for (const port of [gateway.GATEWAY_METRICS_PORT, admin.ADMIN_METRICS_PORT])
      expect(published.some((p) => p.endsWith(`:${String(port)}`))).toBe(false);
  });

  it('keeps Kafka and MongoDB on internal networks only', () => {
    for (const name of ['kafka', 'mongo']) {
      const networks = compose.services[name]?.networks ?? [];
      expect(networks.length).toBeGreaterThan(0);
      for (const network of networks) expect(internal(network)).toBe(true);
    }
  });

  it.each(production.map((s) => [s.name] as const))(
    'connects %s to Kafka as a SCRAM user of its own, with a password of its own',
    (name) => {
      const env = compose.services[name]?.environment ?? {};
      const variable = `KAFKA_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
      expect(env.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
      expect(env.KAFKA_SASL_USERNAME).toBe(name);
      expect(env.KAFKA_SASL_PASSWORD).toBe(`\${${variable}:?set ${variable}}`);
      expect(serviceGrants[name]).toBeDefined();
      // The broker knows the user: its start script adds every service's, from the same variable.
      expect(compose.services.kafka?.environment?.[variable]).toBe(`\${${variable}:?set ${variable}}`);
      expect(kafkaStart).toContain(name);
    },
  );

  it('runs Kafka with SCRAM only and ACLs enforced, its controller unreachable from the network', () => {
    expect(kafkaStart).toMatch(/^listeners=SASL_PLAINTEXT:\/\/:9092,CONTROLLER:\/\/127\.0\.0\.1:9093$/m);
    expect(kafkaStart).toMatch(/^sasl\.enabled\.mechanisms=SCRAM-SHA-512$/m);
    expect(kafkaStart).toMatch(
      /^authorizer\.class\.name=org\.apache\.kafka\.metadata\.authorizer\.StandardAuthorizer$/m,
    );
    expect(kafkaStart).toMatch(/^allow\.everyone\.if\.no\.acl\.found=false$/m);
    expect(kafkaStart).not.toMatch(/(^|[=,])PLAINTEXT:\/\/:/m);
    expect(compose.services.topics?.environment?.KAFKA_SASL_USERNAME).toBe('admin');
    expect(compose.services.topics?.command).toEqual([
      'node',
      'packages/devstack/dist/cli.js',
      'provision',
      '--acls',
    ]);
  });

  it('runs MongoDB with authentication, a replica-set key and a user of the platform limited to its database', () => {
    const mongo = compose.services.mongo;
    expect(mongo?.environment?.MONGO_INITDB_ROOT_PASSWORD).toBe(
      '${MONGO_ROOT_PASSWORD:?set MONGO_ROOT_PASSWORD}',
    );
    expect(String(mongo?.entrypoint)).toContain('--keyFile');
    expect(String(mongo?.entrypoint)).toContain('--replSet rs0');
    expect(mongo?.volumes).toContain(
      './infra/compose/mongo-users.js:/docker-entrypoint-initdb.d/mongo-users.js:ro',
    );
    const users = readFileSync(join(root, 'infra', 'compose', 'mongo-users.js'), 'utf8');
    expect(users).toContain("roles: [{ role: 'readWrite', db: 'wechat' }]");
  });

  it('builds every service from the shared Dockerfile', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    for (const { name } of stackServices) expect(compose.services[name]?.build).toBe('.');
  });

  it('has the WeChat emulator only under the emulator profile, on this host only, refused in production', () => {
    const emulator = compose.services['wechat-emulator'];
    expect(emulator?.profiles).toEqual(['emulator']);
    expect(emulator?.environment?.SERVICE).toBe('wechat-emulator');
    expect(emulator?.ports).toEqual(['127.0.0.1:8089:8089']);
    expect(emulator?.environment?.WXP_DEPLOYMENT).toBe('${WXP_DEPLOYMENT:-production}');
    expect(emulator?.environment?.WECHAT_API_BASE).toBeUndefined();
  });
});
