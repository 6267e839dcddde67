#!/usr/bin/env node
// Brings a fresh clone to a runnable state: npm dependencies when missing or stale, then a build.
// The Kafka classpath and the FerretDB binary are fetched by the devstack on first use.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Node.js 20.19 or newer is needed (this is ${process.versions.node}).`);
  process.exit(1);
}

function run(label, command, args) {
  const started = Date.now();
  process.stdout.write(`${label}…\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${label} failed (${result.error ? result.error.message : `exit ${result.status}`}).`);
    process.exit(result.status || 1);
  }
  process.stdout.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  run('installing npm dependencies', 'npm', ['ci', '--no-audit', '--no-fund']);
}
run('building (tsc -b)', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);
run('bundling the dashboard (esbuild)', process.execPath, [
  join(root, 'services', 'admin-api', 'dashboard', 'build.cjs'),
]);
