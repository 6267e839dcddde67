import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackServices } from '@wxp/devstack';
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
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean } | null>;
};

const internal = (network: string) => compose.networks[network]?.internal === true;

describe('docker-compose.yml', () => {
  it('runs a KRaft Kafka broker and MongoDB as a replica set', () => {
    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services.kafka?.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
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
      if (has('MONGO_URL')) expect(String(env.MONGO_URL)).toMatch(/^mongodb:\/\/mongo:27017\/wechat/);
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
