import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadModels, Topics, topicCatalogue } from '@wxp/contracts';
import { createKafka, provisionTopics, type KafkaSecurity } from '@wxp/kafka';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  ResourcePatternTypes,
  logLevel,
} from 'kafkajs';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { freePort } from '../packages/devstack/src/free-port';
import { startKafkaBroker, type RunningKafkaBroker } from '../packages/devstack/src/kafka-broker';
import { aclsOf, grantServiceAcls, serviceGrants } from '../packages/devstack/src/service-acls';
import {
  eventually,
  mongoUrlFor,
  uniqueName,
  untilHealthy,
  type WatchedProcess,
} from './support/infrastructure';
import { testPrivacyKey } from './support/privacy';
import { eventFields, signedPush, testAccount } from './support/wechat-push';

// A broker that takes only SCRAM-SHA-512 over TLS, with an ACL per service, and the real service
// processes configured for it through their environment: push → read model, and every refusal.
const silent = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'wxp-secure-broker-'));
const database = uniqueName('secure');
const account = testAccount();
const accountsFile = join(dir, 'accounts.json');
const running: ChildProcess[] = [];
const output = new Map<ChildProcess, string>();
let broker: RunningKafkaBroker;

beforeAll(async () => {
  writeFileSync(accountsFile, JSON.stringify([account]));
  broker = await startKafkaBroker({
    dataDir: join(dir, 'kafka'),
    port: await freePort(),
    controllerPort: await freePort(),
    report: () => undefined,
    heapMb: 384,
    scramUsers: Object.keys(serviceGrants),
  });
  const admin = asBrokerAdmin();
  await provisionTopics(admin, topicCatalogue, silent);
  await grantServiceAcls(admin);
}, 240_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client of the broker's super user, which provisions topics and grants and withdraws ACLs. */
function asBrokerAdmin(): Kafka {
  return createKafka({
    brokers: broker.brokers,
    clientId: 'secure-test-admin',
    logger: silent,
    security: broker.clientSecurity('admin'),
  });
}

/** What a service of `user` is given: the password in a file of its own, as a mounted secret is. */
function securityEnvironment(user: string, password = broker.security!.userNamed(user).password) {
  const passwordFile = join(dir, `${user}-${uniqueName('password')}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  return {
    KAFKA_BROKERS: broker.brokers.join(','),
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA_FILE: broker.security!.caFile,
  };
}

function startProcess(service: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', 'services', service, 'dist', 'main.js')], {
    env: {
      ...process.env,
      MONGO_URL: mongoUrlFor(database),
      PRIVACY_KEY: testPrivacyKey,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  output.set(child, '');
  const keep = (chunk: Buffer) => output.set(child, (output.get(child) ?? '') + chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.push(child);
  return child;
}

function watched(child: ChildProcess): WatchedProcess {
  return { child, output: () => output.get(child) ?? '' };
}

/** A bare client that tries once, so a refusal shows at once instead of after the retries. */
function onceClient(security: KafkaSecurity): Kafka {
  return new Kafka({
    clientId: 'secure-test-probe',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
    ...security,
  });
}

async function connects(security: KafkaSecurity): Promise<void> {
  const admin = onceClient(security).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function produces(user: string, topic: string): Promise<void> {
  const producer = onceClient(broker.clientSecurity(user)).producer();
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: '{}' }] });
  } finally {
    await producer.disconnect();
  }
}

describe('a broker that takes only SCRAM over TLS', () => {
  it('carries a follow from the gateway to the subscriber read model, each service as its own user', async () => {
    const gatewayPort = await freePort();
    const projectionPort = await freePort();
    const gateway = startProcess('gateway', {
      ...securityEnvironment('gateway'),
      GATEWAY_PORT: String(gatewayPort),
      WECHAT_ACCOUNTS_FILE: accountsFile,
    });
    const projection = startProcess('subscriber-projection', {
      ...securityEnvironment('subscriber-projection'),
      SUBSCRIBER_PROJECTION_PORT: String(projectionPort),
    });
    await Promise.all([
      untilHealthy(gatewayPort, undefined, watched(gateway)),
      untilHealthy(projectionPort, undefined, watched(projection)),
    ]);

    const { query, body } = signedPush(account, eventFields(account, uniqueName('oSecure'), 'subscribe'));
    const answer = await fetch(`http://127.0.0.1:${gatewayPort}/wechat/${account.appId}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
    expect(answer.status).toBe(200);
    const store = await new MongoClient(mongoUrlFor(database)).connect();
    try {
      await eventually(
        async () =>
          expect(
            await store.db().collection(ReadModels.subscribers).countDocuments({ appId: account.appId }),
          ).toBe(1),
        60_000,
        200,
      );
    } finally {
      await store.close();
    }
    for (const child of running)
      expect(output.get(child)).not.toContain(broker.security!.userNamed('gateway').password);
  }, 240_000);

  it.each([
    { service: 'subscriber-projection', portVariable: 'SUBSCRIBER_PROJECTION_PORT', check: 'consumers' },
    { service: 'gateway', portVariable: 'GATEWAY_PORT', check: 'replyRules' },
  ])(
    'says the $service is unavailable once the broker refuses its consumer for good',
    async ({ service, portVariable, check }) => {
      const port = await freePort();
      const child = startProcess(service, {
        ...securityEnvironment(service),
        [portVariable]: String(port),
        WECHAT_ACCOUNTS_FILE: accountsFile,
      });
      await untilHealthy(port, undefined, watched(child));
      const admin = asBrokerAdmin().admin();
      await admin.connect();
      // Its consumer group's grant withdrawn: kafkajs gives the consumer up, and the service must
      // not go on answering that it is well while it reads nothing.
      const groupGrant = aclsOf(service).filter((acl) => acl.resourceType === AclResourceTypes.GROUP);
      try {
        await admin.deleteAcls({ filters: groupGrant });
        await eventually(
          async () => {
            const health = await fetch(`http://127.0.0.1:${port}/healthz`);
            expect(health.status).toBe(503);
            const { checks } = (await health.json()) as { checks: Record<string, string> };
            expect(checks[check]).toMatch(/stopped after an error it does not retry/);
            expect(Object.entries(checks).filter(([, result]) => result !== 'ok')).toHaveLength(1);
          },
          60_000,
          500,
        );
      } finally {
        await admin.createAcls({ acl: groupGrant });
        await admin.disconnect();
        child.kill('SIGKILL');
      }
    },
    120_000,
  );

  it('refuses a wrong password, a client without TLS, and a client that does not trust the certificate', async () => {
    const { ssl } = broker.clientSecurity('gateway');
    await expect(
      connects({
        ssl,
        sasl: { mechanism: 'scram-sha-512', username: 'gateway', password: 'not-the-password' },
      }),
    ).rejects.toThrow(/auth/i);
    await expect(connects({ sasl: broker.clientSecurity('gateway').sasl! })).rejects.toThrow();
    await expect(
      connects({ ssl: { rejectUnauthorized: true }, sasl: broker.clientSecurity('gateway').sasl! }),
    ).rejects.toThrow();
    // The right settings do connect: the refusals above are about what they changed.
    await connects(broker.clientSecurity('gateway'));
  }, 60_000);

  it('lets a service write only the topics its ACLs name', async () => {
    await produces('gateway', Topics.events);
    await expect(produces('gateway', Topics.profiles)).rejects.toThrow(/authoriz/i);
    await expect(produces('subscriber-projection', Topics.events)).rejects.toThrow(/authoriz/i);
    await expect(produces('admin-api', Topics.profiles)).rejects.toThrow(/authoriz/i);
  }, 60_000);

  it('stops a service whose password is wrong at start, without printing it', async () => {
    const wrong = 'wrong-password-for-the-test-0123';
    const child = startProcess('gateway', {
      ...securityEnvironment('gateway', wrong),
      GATEWAY_PORT: String(await freePort()),
      WECHAT_ACCOUNTS_FILE: accountsFile,
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output.get(child)).toMatch(/auth/i);
    expect(output.get(child)).toContain('check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME');
    expect(output.get(child)).not.toContain(wrong);
  }, 120_000);

  it('stops a service whose user lacks its ACLs, and says which grants to check', async () => {
    const kafka = asBrokerAdmin();
    const admin = kafka.admin();
    await admin.connect();
    const topicGrants = aclsOf('qr-attribution').filter((acl) => acl.resourceType === AclResourceTypes.TOPIC);
    try {
      await admin.deleteAcls({ filters: topicGrants });
      // Withdrawn on the broker too, so the service cannot start in the moment before.
      await eventually(
        async () => {
          const left = await admin.describeAcls({
            resourceType: AclResourceTypes.TOPIC,
            resourcePatternType: ResourcePatternTypes.ANY,
            principal: 'User:qr-attribution',
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ANY,
          });
          expect(left.resources).toHaveLength(0);
        },
        30_000,
        100,
      );
      const child = startProcess('qr-attribution', {
        ...securityEnvironment('qr-attribution'),
        QR_ATTRIBUTION_PORT: String(await freePort()),
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(output.get(child)).toMatch(/Topic authorization failed/);
      expect(output.get(child)).toContain('grant the ACLs README lists for it');
    } finally {
      await grantServiceAcls(kafka, ['qr-attribution']);
      await admin.disconnect();
    }
  }, 120_000);
});
