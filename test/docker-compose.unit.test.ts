import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackServices } from '@wxp/devstack';
import { parse } from 'yaml';

// docker-compose.yml cannot run on these machines; this keeps it consistent with the code.
const root = join(__dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { environment?: Record<string, unknown>; ports?: string[]; image?: string; build?: unknown }
  >;
};

describe('docker-compose.yml', () => {
  it('runs a KRaft Kafka broker and MongoDB as a replica set', () => {
    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services.kafka?.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(compose.services.mongo?.image).toMatch(/^mongo:/);
  });

  const production = stackServices.filter((s) => s.production);

  it.each(production.map((s) => [s.name, s] as const))('has %s, wired like the local stack', (name, spec) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    expect(existsSync(join(root, 'services', name, 'src', 'main.ts'))).toBe(true);
    const env = service?.environment ?? {};
    expect(env.SERVICE).toBe(name);
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(String(env.MONGO_URL)).toMatch(/^mongodb:\/\/mongo:27017\/wechat/);
    expect(env.BIND_HOST).toBe('0.0.0.0');
    expect(Number(env[spec.portVariable])).toBe(spec.defaultPort);
    for (const mapping of service?.ports ?? [])
      expect(mapping).toBe(`${spec.defaultPort}:${spec.defaultPort}`);
  });

  it('publishes the ports of the design: gateway 8080, admin API 8081', () => {
    expect(compose.services.gateway?.ports).toEqual(['8080:8080']);
    expect(compose.services['admin-api']?.ports).toEqual(['8081:8081']);
  });

  it('builds every service from the shared Dockerfile', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    for (const { name } of stackServices) expect(compose.services[name]?.build).toBe('.');
  });

  it('has the WeChat emulator only under the emulator profile', () => {
    const emulator = compose.services['wechat-emulator'] as {
      profiles?: string[];
      environment?: Record<string, unknown>;
    };
    expect(emulator.profiles).toEqual(['emulator']);
    expect(emulator.environment?.SERVICE).toBe('wechat-emulator');
  });
});
