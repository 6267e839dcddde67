import { spawnSync } from 'node:child_process';
import type { StartedInfrastructure } from './infrastructure';

/** True when a Docker engine answers (not only a docker client on PATH). */
export function dockerEngineAvailable(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  return result.status === 0 && result.stdout.trim().length > 0;
}

/**
 * Broker and store as containers, for machines with a Docker engine. The testcontainers packages
 * are development dependencies, loaded only on this path.
 */
export async function startContainerInfrastructure(database: string): Promise<StartedInfrastructure> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const [kafka, mongo] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new MongoDBContainer('mongo:7.0').start(),
  ]);
  return {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    mongoUrl: `${mongo.getConnectionString()}/${database}?directConnection=true`,
    parts: ['kafka: testcontainers', 'store: testcontainers (mongo:7.0)'],
    async stop() {
      await Promise.all([kafka.stop(), mongo.stop()]);
    },
  };
}
