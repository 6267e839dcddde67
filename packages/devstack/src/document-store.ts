import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { onPath, requireTool } from './build-command';
import { ensureFerretdb } from './ferretdb-build';
import type { Report } from './kafka-broker';
import { ensurePrivateDir } from './private-dir';
import {
  killStaleProcess,
  startSupervisedProcess,
  waitUntilReady,
  type SupervisedProcess,
} from './supervised-process';

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
  ensurePrivateDir(dataDir);
  ensurePrivateDir(dbDir);
  const pidFile = join(dataDir, `${engine}.pid`);
  if (await killStaleProcess(pidFile)) report('store: stopped a store left running by an earlier run');

  let command: string;
  let args: string[];
  if (engine === 'ferretdb') {
    command = await ensureFerretdb(report);
    // Commits wait for the write-ahead log, not for the disk: a crashed process loses nothing, a
    // crashed machine may lose the last moments, as with a standalone mongod's journal interval.
    // Deleted content is overwritten, not just unlinked from the b-tree, so that an erased user's
    // documents do not stay readable in the database file (the log is emptied every few seconds).
    const sqliteUrl = `file:${dbDir}/?_pragma=synchronous(normal)&_pragma=secure_delete(on)`;
    args = [`-listen-addr=127.0.0.1:${port}`, `-sqlite-url=${sqliteUrl}`, '-log-level=warn'];
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
