import { join } from 'node:path';
import { dockerEngineAvailable, startContainerInfrastructure } from './container-infrastructure';
import { startDocumentStore, type StoreEngine } from './document-store';
import { isPortFree } from './free-port';
import type { BrokerSecurity } from './broker-security';
import { startKafkaBroker, type Report } from './kafka-broker';
import { CLUSTER_PORTS, KafkaCluster, type ClusterNodePorts } from './kafka-cluster';
import { ensurePrivateDir } from './private-dir';
import { serviceGrants } from './service-acls';

export interface InfrastructureOptions {
  /** Broker and store data live below this folder (`.data/` for the local stack, a temp dir in tests). */
  dataDir: string;
  kafkaPort?: number;
  controllerPort?: number;
  mongoPort?: number;
  database?: string;
  env?: NodeJS.ProcessEnv;
  report?: Report;
  engine?: StoreEngine;
  /** Use testcontainers when a Docker engine answers and neither variable is set. */
  allowContainers?: boolean;
  /**
   * Start the broker with SCRAM-SHA-512 over TLS and ACLs (data in `kafka-secure/`), with a user per
   * service; ignored when KAFKA_BROKERS names a running cluster.
   */
  secureKafka?: boolean;
  /**
   * Three Kafka nodes in one KRaft cluster (data in `kafka-cluster/`), topics at replication 3 with
   * min.insync.replicas 2; on 9092–9094 unless `clusterPorts` says otherwise. Ignored when
   * KAFKA_BROKERS names a running cluster.
   */
  kafkaCluster?: boolean;
  clusterPorts?: readonly ClusterNodePorts[];
}

export interface StartedInfrastructure {
  kafkaBrokers: string[];
  mongoUrl: string;
  /** Set when the stack's own broker takes only SCRAM over TLS: how each user reaches it. */
  kafkaSecurity?: BrokerSecurity;
  /** Set when the stack runs its own three-node cluster: its nodes can be stopped and started. */
  kafkaCluster?: KafkaCluster;
  /** One line per part: what runs where. */
  parts: string[];
  stop(): Promise<void>;
}

async function ensurePortFree(port: number, what: string, variable: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new Error(
      `${what}: port ${port} on 127.0.0.1 is already in use; stop what holds it, or set ${variable} to use a running one`,
    );
  }
}

/**
 * Brings up a Kafka broker and a MongoDB-compatible store as child processes, unless KAFKA_BROKERS
 * or MONGO_URL name running ones: those always win and nothing is started for them.
 */
export async function startInfrastructure(options: InfrastructureOptions): Promise<StartedInfrastructure> {
  const env = options.env ?? process.env;
  const report = options.report ?? (() => undefined);
  const database = options.database ?? 'wechat';
  const givenBrokers = env.KAFKA_BROKERS?.trim();
  const givenMongo = env.MONGO_URL?.trim();
  ensurePrivateDir(options.dataDir);

  if (
    !givenBrokers &&
    !givenMongo &&
    !options.secureKafka &&
    !options.kafkaCluster &&
    options.allowContainers &&
    dockerEngineAvailable()
  ) {
    report('infrastructure: a Docker engine answers, using testcontainers');
    return startContainerInfrastructure(database);
  }

  const kafkaPart = async (): Promise<Part> => {
    if (givenBrokers) {
      const brokers = givenBrokers.split(',').map((b) => b.trim());
      return { value: brokers, line: `kafka: ${brokers.join(',')} (from KAFKA_BROKERS)` };
    }
    if (options.secureKafka && options.kafkaCluster)
      throw new Error('kafka: the secured broker runs alone; choose the cluster or the secured broker');
    if (options.kafkaCluster) {
      const nodes = options.clusterPorts ?? CLUSTER_PORTS;
      for (const node of nodes) {
        await ensurePortFree(node.port, 'kafka', 'KAFKA_BROKERS');
        await ensurePortFree(node.controllerPort, 'kafka controller', 'KAFKA_BROKERS');
      }
      const started = Date.now();
      const cluster = await KafkaCluster.start({
        dataDir: join(options.dataDir, 'kafka-cluster'),
        nodes,
        report,
      });
      return {
        value: cluster.brokers,
        line: `kafka: ${cluster.brokers.join(',')} (KRaft cluster of ${nodes.length}, replication ${nodes.length}, min.insync.replicas ${Math.min(2, nodes.length)}, ready in ${Date.now() - started} ms)`,
        stop: () => cluster.stop(),
        kafkaCluster: cluster,
      };
    }
    const port = options.kafkaPort ?? 9092;
    const controllerPort = options.controllerPort ?? port + 1;
    await ensurePortFree(port, 'kafka', 'KAFKA_BROKERS');
    await ensurePortFree(controllerPort, 'kafka controller', 'KAFKA_BROKERS');
    const started = Date.now();
    // A broker's users are written when its data is formatted: the secure one keeps data apart.
    const broker = await startKafkaBroker({
      dataDir: join(options.dataDir, options.secureKafka ? 'kafka-secure' : 'kafka'),
      port,
      controllerPort,
      report,
      ...(options.secureKafka ? { scramUsers: Object.keys(serviceGrants) } : {}),
    });
    const how = broker.security ? 'KRaft, SCRAM-SHA-512 over TLS, ACLs' : 'KRaft';
    return {
      value: broker.brokers,
      line: `kafka: ${broker.brokers.join(',')} (${how}, ready in ${Date.now() - started} ms)`,
      stop: broker.stop,
      ...(broker.security ? { kafkaSecurity: broker.security } : {}),
    };
  };
  const storePart = async (): Promise<Part> => {
    if (givenMongo) {
      return {
        value: [givenMongo],
        line: `store: ${givenMongo.replace(/\/\/[^@/]*@/, '//***@')} (from MONGO_URL)`,
      };
    }
    const port = options.mongoPort ?? 27017;
    await ensurePortFree(port, 'store', 'MONGO_URL');
    const started = Date.now();
    const store = await startDocumentStore({
      dataDir: join(options.dataDir, 'store'),
      port,
      database,
      report,
      ...(options.engine ? { engine: options.engine } : {}),
    });
    return {
      value: [store.url],
      line: `store: ${store.url} (${store.engine}, ready in ${Date.now() - started} ms)`,
      stop: store.stop,
    };
  };

  // Started side by side: the JVM's start-up and a first FerretDB build overlap.
  const results = await Promise.allSettled([kafkaPart(), storePart()]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async () => {
    await Promise.all(started.map((part) => part.stop?.()));
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [kafka, store] = started as [Part, Part];
  return {
    kafkaBrokers: kafka.value,
    mongoUrl: store.value[0] ?? '',
    ...(kafka.kafkaSecurity ? { kafkaSecurity: kafka.kafkaSecurity } : {}),
    ...(kafka.kafkaCluster ? { kafkaCluster: kafka.kafkaCluster } : {}),
    parts: [kafka.line, store.line],
    stop: stopAll,
  };
}

interface Part {
  value: string[];
  line: string;
  stop?: () => Promise<void>;
  kafkaSecurity?: BrokerSecurity;
  kafkaCluster?: KafkaCluster;
}
