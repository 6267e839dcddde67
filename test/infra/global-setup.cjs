// Starts one Kafka broker and one MongoDB-compatible store for the whole integration run, on free
// ports and in a temporary folder, unless KAFKA_BROKERS / MONGO_URL name running ones.
'use strict';
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  const devstack = require('../../packages/devstack/dist');
  const dataDir = mkdtempSync(join(tmpdir(), 'wxp-test-'));
  const started = Date.now();
  const [kafkaPort, controllerPort, mongoPort] = [
    await devstack.freePort(),
    await devstack.freePort(),
    await devstack.freePort(),
  ];
  const infra = await devstack.startInfrastructure({
    dataDir,
    kafkaPort,
    controllerPort,
    mongoPort,
    allowContainers: true,
    report: (line) => process.stdout.write(`\n[infra] ${line}`),
  });
  await devstack.provisionAllTopics(infra.kafkaBrokers);
  process.env.KAFKA_BROKERS = infra.kafkaBrokers.join(',');
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.WXP_TEST_DATA_DIR = dataDir;
  process.stdout.write(
    `\n[infra] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n${infra.parts.map((p) => `[infra] ${p}`).join('\n')}\n`,
  );
  globalThis.__wxpInfrastructure = { infra, dataDir };
};
