import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { onPath, requireTool, runToCompletion } from './build-command';
import type { Report } from './kafka-broker';
import { cacheDir, repoRoot } from './repo-paths';
import {
  killStaleProcess,
  startSupervisedProcess,
  waitUntilReady,
  type SupervisedProcess,
} from './supervised-process';

function ferretdbModuleDir(): string {
  return join(repoRoot(), 'infra', 'ferretdb');
}

export function ferretdbVersion(): string {
  const goMod = readFileSync(join(ferretdbModuleDir(), 'go.mod'), 'utf8');
  const match = /github\.com\/FerretDB\/FerretDB (v[0-9][^\s]*)/.exec(goMod);
  if (!match?.[1]) throw new Error('infra/ferretdb/go.mod does not require github.com/FerretDB/FerretDB');
  return match[1];
}

/** The FerretDB binary, built from the Go module proxy on first use (no cgo: SQLite is pure Go). */
export async function ensureFerretdb(report: Report): Promise<string> {
  const version = ferretdbVersion();
  const binDir = join(cacheDir(), 'bin');
  const binary = join(binDir, `ferretdb-${version}`);
  if (existsSync(binary)) return binary;
  requireTool('go', ['version'], 'install Go 1.24 or newer');
  report(`store: building FerretDB ${version} from the Go module proxy (first run only)`);
  mkdirSync(binDir, { recursive: true });
  const partial = `${binary}.partial`;
  await runToCompletion('go', ['build', '-trimpath', '-o', partial, '.'], {
    cwd: ferretdbModuleDir(),
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
    logFile: join(binDir, `ferretdb-${version}.build.log`),
  });
  renameSync(partial, binary);
  return binary;
}

export type StoreEngine = 'ferretdb' | 'mongod';

/** A real mongod when one is on PATH (unless WXP_STORE says otherwise), else FerretDB. */
export function chooseStoreEngine(preference = process.env.WXP_STORE ?? 'auto'): StoreEngine {
  if (preference === 'ferretdb' || preference === 'mongod') return preference;
  if (preference !== 'auto')
    throw new Error(`WXP_STORE must be auto, ferretdb or mongod (got "${preference}")`);
  return onPath('mongod') ? 'mongod' : 'ferretdb';
}

export interface DocumentStoreOptions {
  dataDir: string;
  port: number;
  database: string;
  report: Report;
  engine?: StoreEngine;
}

export interface RunningDocumentStore {
  readonly engine: StoreEngine;
  readonly url: string;
  readonly process: SupervisedProcess;
  stop(): Promise<void>;
}

export async function startDocumentStore(options: DocumentStoreOptions): Promise<RunningDocumentStore> {
  const { dataDir, port, report } = options;
  const engine = options.engine ?? chooseStoreEngine();
  const dbDir = join(dataDir, engine === 'ferretdb' ? 'sqlite' : 'db');
  mkdirSync(dbDir, { recursive: true });
  const pidFile = join(dataDir, `${engine}.pid`);
  if (await killStaleProcess(pidFile)) report('store: stopped a store left running by an earlier run');

  let command: string;
  let args: string[];
  if (engine === 'ferretdb') {
    command = await ensureFerretdb(report);
    args = [`-listen-addr=127.0.0.1:${port}`, `-sqlite-url=file:${dbDir}/`, '-log-level=warn'];
  } else {
    requireTool('mongod', ['--version'], 'put mongod on PATH or set WXP_STORE=ferretdb');
    command = 'mongod';
    args = ['--dbpath', dbDir, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'];
  }
  const proc = startSupervisedProcess({
    name: engine,
    command,
    args,
    logFile: join(dataDir, `${engine}.log`),
    pidFile,
    graceSeconds: 10,
  });
  const url = `mongodb://127.0.0.1:${port}/${options.database}`;
  await waitUntilReady(
    proc,
    async () => {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
      try {
        await client.connect();
        await client.db().command({ ping: 1 });
      } finally {
        await client.close();
      }
    },
    30_000,
  );
  return { engine, url, process: proc, stop: () => proc.stop() };
}
