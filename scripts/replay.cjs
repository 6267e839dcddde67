#!/usr/bin/env node
// npm run replay -- <service> [--until <time>]: rebuilds that service's read model from offset 0 and
// swaps it in, or builds a snapshot of it as it stood at a time.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const replayable = ['subscriber-projection', 'qr-attribution', 'profile-enricher'];
const service = process.argv[2];
if (!replayable.includes(service)) {
  console.error(
    `usage: npm run replay -- <${replayable.join('|')}> [--until <time>]\n\nRebuilds the service's read model from offset 0 into fresh collections while the service keeps\nrunning, then swaps them in. With --until (a day in China time, or an ISO 8601 time with its zone)\nit builds the model as it stood at that time into a snapshot of its own instead, leaving the live\nmodel alone. Uses KAFKA_BROKERS, MONGO_URL and PRIVACY_KEY like the service.`,
  );
  process.exit(2);
}
const root = join(__dirname, '..');
const entry = join(root, 'services', service, 'dist', 'replay.js');
if (!existsSync(entry)) {
  console.error(`${entry} is missing; run npm run build`);
  process.exit(1);
}
const privacyKeyFile = join(root, '.data', 'privacy-key');
const env = { ...process.env };
// The local stack keeps its privacy key in .data/; a deployment gives PRIVACY_KEY.
if (!env.PRIVACY_KEY && existsSync(privacyKeyFile))
  env.PRIVACY_KEY = require('node:fs').readFileSync(privacyKeyFile, 'utf8').trim();
process.exit(
  spawnSync(process.execPath, [entry, ...process.argv.slice(3)], { stdio: 'inherit', env }).status ?? 1,
);
