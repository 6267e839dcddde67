#!/usr/bin/env node
import { defaultDataDir } from './repo-paths';
import { startInfrastructure } from './infrastructure';
import { provisionAllTopics, startLocalStack } from './local-stack';

const usage = `usage: devstack <command> [--secure]

  up          start broker, store, topics and every service; Ctrl-C stops all of it
  cluster     the same on three Kafka nodes (127.0.0.1:9092-9094, KRaft, replication 3,
              min.insync.replicas 2; data in .data/kafka-cluster/)
  infra       start only the broker and the store, and print the variables that reach them;
              with --cluster, the three-node cluster instead of one broker
  provision   create the platform's topics on the cluster named by KAFKA_BROKERS (idempotent);
              with --acls, also grant each service's user its ACLs (README, Kafka and MongoDB connections)
  help        show this text

  --secure    (up, infra) the broker takes only SCRAM-SHA-512 over TLS and enforces ACLs; each
              service connects as its own user (data in .data/kafka-secure/)

Data lives in .data/ (WXP_DATA_DIR overrides). KAFKA_BROKERS and MONGO_URL use running ones instead.`;

const report = (line: string) => process.stdout.write(`${line}\n`);

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

async function main(command: string | undefined, flags: string[]): Promise<number> {
  const dataDir = process.env.WXP_DATA_DIR ?? defaultDataDir();
  const started = Date.now();
  const allowed: Record<string, string[]> = {
    up: ['--secure'],
    cluster: [],
    infra: ['--secure', '--cluster'],
    provision: ['--acls'],
  };
  if (flags.some((flag) => !(allowed[command ?? ''] ?? []).includes(flag))) {
    process.stderr.write(`devstack: unexpected ${flags.join(' ')} for "${command ?? ''}"\n${usage}\n`);
    return 2;
  }
  const secureKafka = flags.includes('--secure');
  const kafkaCluster = command === 'cluster' || flags.includes('--cluster');
  switch (command) {
    case 'up':
    case 'cluster': {
      const stack = await startLocalStack({ dataDir, report, secureKafka, kafkaCluster });
      report(`\nlocal stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
      for (const line of stack.lines) report(`  ${line}`);
      report('\nCtrl-C stops everything.');
      const crashed = Promise.race(
        stack.services.map((s) => s.exited.then((code) => ({ name: s.name, code }))),
      );
      const outcome = await Promise.race([untilSignal().then(() => null), crashed]);
      if (outcome) report(`${outcome.name} exited with code ${outcome.code}; stopping the stack`);
      else report('stopping…');
      await stack.stop();
      return outcome ? 1 : 0;
    }
    case 'infra': {
      const infra = await startInfrastructure({ dataDir, report, secureKafka, kafkaCluster });
      await provisionAllTopics(infra.kafkaBrokers, infra.kafkaSecurity);
      for (const line of infra.parts) report(line);
      report(`\nexport KAFKA_BROKERS=${infra.kafkaBrokers.join(',')}`);
      if (infra.kafkaSecurity) {
        // The admin user's: a service's own user is the same with its name and its password file.
        for (const [name, value] of Object.entries(infra.kafkaSecurity.clientEnvironment('admin')))
          report(`export ${name}=${value}`);
      }
      report(`export MONGO_URL=${infra.mongoUrl}\n\nCtrl-C stops both.`);
      await untilSignal();
      await infra.stop();
      return 0;
    }
    case 'provision': {
      const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim());
      if (!brokers?.length) throw new Error('provision needs KAFKA_BROKERS');
      await provisionAllTopics(brokers, undefined, { grantAcls: flags.includes('--acls') });
      report(`topics provisioned on ${brokers.join(',')}${flags.includes('--acls') ? ', ACLs granted' : ''}`);
      return 0;
    }
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      report(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`devstack: unknown command "${command}"\n${usage}\n`);
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`devstack: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  },
);
