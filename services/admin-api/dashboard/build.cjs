#!/usr/bin/env node
// Bundles the dashboard into dist/dashboard: one script, one stylesheet, the page. Everything it
// loads is served by the admin API itself; nothing comes from a CDN.
'use strict';
const { build } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const here = __dirname;
const out = join(here, '..', 'dist', 'dashboard');

async function main() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    outfile: join(out, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) copyFileSync(join(here, file), join(out, file));
}

main().catch((error) => {
  console.error(`dashboard build failed: ${error.message}`);
  process.exit(1);
});
