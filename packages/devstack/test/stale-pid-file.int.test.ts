import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startDocumentStore, type RunningDocumentStore } from '../src/document-store';
import { freePort } from '../src/free-port';
import { processGroupAlive } from '../src/supervised-process';

const dataDir = mkdtempSync(join(tmpdir(), 'wxp-stale-'));
let leftBehind: number | undefined;
let second: RunningDocumentStore | undefined;

/** The store's pid file, whatever the engine: `<engine>.pid` in the data folder. */
function pidFile(): string {
  for (const engine of ['ferretdb', 'mongod']) {
    const file = join(dataDir, `${engine}.pid`);
    if (existsSync(file)) return file;
  }
  throw new Error(`no pid file in ${dataDir}`);
}

async function ping(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
  try {
    await client.db().command({ ping: 1 });
  } finally {
    await client.close();
  }
}

afterAll(async () => {
  await second?.stop();
  if (leftBehind !== undefined && processGroupAlive(leftBehind)) process.kill(-leftBehind, 'SIGKILL');
});

describe('a start after a crashed one', () => {
  it('ends the store the crashed start left running, found from its pid file, and starts its own', async () => {
    const port = await freePort();
    // A first start, in a Node process of its own, that reports the store's process group once ready.
    const starter = spawn(
      process.execPath,
      [
        '-e',
        `const { startDocumentStore } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'document-store.js'))});
         startDocumentStore({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, database: 'stale', report: () => {} })
           .then((store) => process.stdout.write(JSON.stringify({ pgid: store.process.pid, url: store.url }) + '\\n'))
           .catch((error) => { console.error(error); process.exit(1); });
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const first = await new Promise<{ pgid: number; url: string }>((resolve, reject) => {
      starter.stdout.once('data', (d) => resolve(JSON.parse(String(d)) as { pgid: number; url: string }));
      starter.once('exit', (code) => reject(new Error(`the first start exited with ${code}`)));
    });
    leftBehind = first.pgid;

    // The crash: the starter is frozen so it cannot tidy up, its guard is killed, then the starter.
    // The store itself survives in its process group, holding the port; the pid file names the group.
    starter.kill('SIGSTOP');
    process.kill(first.pgid, 'SIGKILL');
    starter.kill('SIGKILL');
    await new Promise((resolve) => starter.once('exit', resolve));
    expect(processGroupAlive(first.pgid)).toBe(true);
    await ping(first.url);
    expect(Number(readFileSync(pidFile(), 'utf8').split(' ')[0])).toBe(first.pgid);

    const reported: string[] = [];
    second = await startDocumentStore({
      dataDir,
      port,
      database: 'stale',
      report: (line) => reported.push(line),
    });
    expect(reported).toContain('store: stopped a store left running by an earlier run');
    expect(processGroupAlive(first.pgid)).toBe(false);
    expect(second.process.pid).not.toBe(first.pgid);
    expect(Number(readFileSync(pidFile(), 'utf8').split(' ')[0])).toBe(second.process.pid);
    await ping(second.url);
  });
});
