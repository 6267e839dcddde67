#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests, installing the
// `chromium` package with apt-get when it is missing. Test tools' own browser downloads do not
// work on machines without internet; Debian's package comes from the distribution's mirror.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

function run(command, args) {
  const started = Date.now();
  process.stderr.write(`[chromium] ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
  process.stderr.write(`[chromium] done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0)
    throw new Error(`${CHROMIUM} is missing and there is no apt-get to install Debian's chromium`);
  // Not root: sudo without a password prompt, or a clear failure rather than a hung test run.
  const root = process.getuid?.() === 0;
  const aptGet = (...args) => (root ? run('apt-get', args) : run('sudo', ['-n', 'apt-get', ...args]));
  try {
    aptGet('install', '-y', '--no-install-recommends', 'chromium');
  } catch {
    // A fresh machine may have no package lists yet.
    aptGet('update');
    aptGet('install', '-y', '--no-install-recommends', 'chromium');
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is not there`);
  return CHROMIUM;
}

module.exports = { ensureChromium, CHROMIUM };

if (require.main === module) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
