import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaSecurityFrom, type KafkaSecurity } from '@wxp/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { requireTool, runToCompletion } from './build-command';
import { prepareBrokerSecurity, type BrokerSecurity } from './broker-security';
import { ensurePrivateDir } from './private-dir';
import { cacheDir, repoRoot } from './repo-paths';
import {
  killStaleProcess,
  startSupervisedProcess,
  waitUntilReady,
  type SupervisedProcess,
} from './supervised-process';

export type Report = (line: string) => void;

function infraDir(): string {
  return join(repoRoot(), 'infra', 'kafka');
}

/** The Kafka version the repository's pom asks for. */
export function kafkaVersion(): string {
  const pom = readFileSync(join(infraDir(), 'pom.xml'), 'utf8');
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error('infra/kafka/pom.xml does not declare kafka.version');
  return match[1];
}

/**
 * The Maven command that fetches the classpath: checksums strict (-C), so an artifact whose
 * checksum does not match fails the fetch instead of being used with a warning; the plugin's
 * version is pinned in the pom.
 */
export function mavenFetchArgs(pom: string, outputDir: string): string[] {
  return [
    '-B',
    '-q',
    '--strict-checksums',
    '-f',
    pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${outputDir}`,
    '-DincludeScope=runtime',
  ];
}

/** What a finished fetch records: a classpath fetched another way (an older pom or command) is fetched again. */
function fetchFingerprint(version: string): string {
  const pom = join(infraDir(), 'pom.xml');
  const hash = createHash('sha256')
    .update(readFileSync(pom))
    .update(JSON.stringify(mavenFetchArgs('', '')));
  return `${version} ${hash.digest('hex').slice(0, 16)}\n`;
}

/**
 * The broker's classpath, fetched from Maven Central on first use (`mvn dependency:copy-dependencies`
 * into ~/.m2 and then `.cache/`); later runs find it in place.
 */
export async function ensureKafkaClasspath(report: Report): Promise<string> {
  const version = kafkaVersion();
  const home = join(cacheDir(), `kafka-${version}`);
  const libs = join(home, 'libs');
  const complete = join(home, '.complete');
  const fingerprint = fetchFingerprint(version);
  if (existsSync(complete) && readFileSync(complete, 'utf8') === fingerprint) return libs;
  requireTool('java', ['-version'], 'install a Java 17 runtime (apt-get install openjdk-17-jre-headless)');
  requireTool('mvn', ['-v'], 'install Maven (apt-get install maven)');
  report(`kafka: fetching Apache Kafka ${version} from Maven Central (first run only)`);
  mkdirSync(home, { recursive: true });
  const staging = join(home, 'libs.partial');
  rmSync(staging, { recursive: true, force: true });
  await runToCompletion('mvn', mavenFetchArgs(join(infraDir(), 'pom.xml'), staging), {
    logFile: join(home, 'fetch.log'),
  });
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  writeFileSync(complete, fingerprint);
  return libs;
}

export interface KafkaBrokerOptions {
  dataDir: string;
  port: number;
  controllerPort: number;
  report: Report;
  heapMb?: number;
  /**
   * Users besides the broker's own `admin`: the broker then takes only SCRAM-SHA-512 over TLS, with
   * ACLs, and `security` of the running broker says how to reach it.
   */
  scramUsers?: string[];
  /** This broker as one node of a KRaft cluster (kafka-cluster.ts); alone in its quorum when unset. */
  cluster?: ClusterMembership;
}

/** A node's place in a cluster: every node is formatted with the same cluster id and knows all voters. */
export interface ClusterMembership {
  nodeId: number;
  clusterId: string;
  voters: { nodeId: number; controllerPort: number }[];
}

export interface RunningKafkaBroker {
  readonly brokers: string[];
  /** Set when the broker takes only authenticated, encrypted connections. */
  readonly security?: BrokerSecurity;
  /** What a client of this broker connects with as `user` (`admin` when unnamed); none when plaintext. */
  clientSecurity(user?: string): KafkaSecurity;
  readonly process: SupervisedProcess;
  stop(): Promise<void>;
}

function brokerProperties(
  dataDir: string,
  port: number,
  controllerPort: number,
  cluster: ClusterMembership | undefined,
): string {
  const template = readFileSync(join(infraDir(), 'server.properties'), 'utf8');
  const voters = cluster
    ? cluster.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`).join(',')
    : `1@127.0.0.1:${controllerPort}`;
  // Three copies of everything, and a write acknowledged only once two of them hold it: one node
  // may die at any moment without losing an acknowledged push or stopping writes.
  const replication = cluster
    ? `node.id=${cluster.nodeId}
default.replication.factor=${cluster.voters.length}
min.insync.replicas=${Math.min(2, cluster.voters.length)}
offsets.topic.replication.factor=${cluster.voters.length}
transaction.state.log.replication.factor=${cluster.voters.length}
transaction.state.log.min.isr=${Math.min(2, cluster.voters.length)}
share.coordinator.state.topic.replication.factor=${cluster.voters.length}
share.coordinator.state.topic.min.isr=${Math.min(2, cluster.voters.length)}
`
    : '';
  return `${template}
# Written by the devstack starter for this data directory.
${replication}controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
log.dirs=${join(dataDir, 'log')}
`;
}

/**
 * A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as kafka-storage makes them.
 * One that starts with "-" would be read as an option by `format -t`, so (as Kafka's own Uuid does)
 * such an id is drawn again.
 */
export function newClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<RunningKafkaBroker> {
  const { dataDir, port, controllerPort, report } = options;
  if (options.scramUsers && options.cluster)
    throw new Error('kafka: a secured broker runs alone; cluster nodes take plaintext connections only');
  const libs = await ensureKafkaClasspath(report);
  ensurePrivateDir(dataDir);
  const pidFile = join(dataDir, 'broker.pid');
  if (await killStaleProcess(pidFile)) report('kafka: stopped a broker left running by an earlier run');

  const securityDir = join(dataDir, 'security');
  if (options.scramUsers) ensurePrivateDir(securityDir);
  const security = options.scramUsers
    ? await prepareBrokerSecurity(securityDir, options.scramUsers)
    : undefined;
  const propertiesFile = join(dataDir, 'server.properties');
  writeFileSync(
    propertiesFile,
    brokerProperties(dataDir, port, controllerPort, options.cluster) +
      (security?.properties(port, controllerPort) ?? ''),
    { mode: 0o600 },
  );
  const javaArgs = [
    `-Xms${Math.min(256, options.heapMb ?? 512)}m`,
    `-Xmx${options.heapMb ?? 512}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(infraDir(), 'log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
  ];
  if (!existsSync(join(dataDir, 'log', 'meta.properties'))) {
    await runToCompletion(
      'java',
      [
        ...javaArgs,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        options.cluster?.clusterId ?? newClusterId(),
        '-c',
        propertiesFile,
        ...(security?.formatArguments() ?? []),
      ],
      { logFile: join(dataDir, 'format.log'), privateFiles: true },
    );
  }

  const proc = startSupervisedProcess({
    name: 'kafka',
    command: 'java',
    args: [...javaArgs, 'kafka.Kafka', propertiesFile],
    logFile: join(dataDir, 'broker.log'),
    pidFile,
    graceSeconds: 20,
  });
  const brokers = [`127.0.0.1:${port}`];
  // Through the same variables a service reads, so the local broker checks those too.
  const clientSecurity = (user = 'admin'): KafkaSecurity =>
    security ? kafkaSecurityFrom(security.clientEnvironment(user)) : {};
  const probe = new Kafka({
    clientId: 'devstack-probe',
    brokers,
    ...clientSecurity(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  await waitUntilReady(
    proc,
    async () => {
      const admin = probe.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        await admin.listTopics();
      } finally {
        await admin.disconnect();
      }
    },
    90_000,
  );
  return {
    brokers,
    process: proc,
    ...(security ? { security } : {}),
    clientSecurity,
    stop: () => proc.stop(),
  };
}
