#!/usr/bin/env node
// Bundles the dashboard into dist/dashboard (or the folder given): one script, one stylesheet, the
// page. Everything it loads is served by the admin API itself; nothing comes from a CDN. No source
// map is written: the admin port would otherwise hand anyone the dashboard's source.
'use strict';
const { build } = require('esbuild');
const { copyFileSync, mkdirSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');

const here = __dirname;
const out = process.argv[2] ? resolve(process.argv[2]) : join(here, '..', 'dist', 'dashboard');

async function main() {
  // A fresh folder, so nothing an earlier build wrote (such as a source map) stays behind.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    outfile: join(out, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: false,
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
