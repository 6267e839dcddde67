import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/free-port';
import { startInfrastructure } from '../src/infrastructure';
import { startSupervisedProcess } from '../src/supervised-process';
import { eventually } from '../../../test/support/infrastructure';

/** Every file and folder below `dir` that its group or others may read, write or enter. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) found.push(...openToOthers(path));
  }
  return found;
}

describe('the data folder', () => {
  it('is closed to everyone but its owner, and so is all the broker and the store write in it', async () => {
    // A folder left world-readable by an earlier version.
    const dataDir = join(mkdtempSync(join(tmpdir(), 'wxp-private-')), 'data');
    mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const [kafkaPort, controllerPort, mongoPort] = [await freePort(), await freePort(), await freePort()];
    const { KAFKA_BROKERS: _brokers, MONGO_URL: _mongo, ...env } = process.env;
    const infrastructure = await startInfrastructure({ dataDir, kafkaPort, controllerPort, mongoPort, env });
    try {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(openToOthers(join(dataDir, 'kafka'))).toEqual([]);
      expect(openToOthers(join(dataDir, 'store'))).toEqual([]);
      // Segments, indexes and the cluster's metadata are there to be checked.
      expect(readdirSync(join(dataDir, 'kafka', 'log')).length).toBeGreaterThan(0);
    } finally {
      await infrastructure.stop();
    }
  });

  it("gets files from the stack's children that only their owner may read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxp-umask-'));
    const child = startSupervisedProcess({
      name: 'writer',
      command: 'sh',
      args: ['-c', `echo data > "${dir}/written"; mkdir "${dir}/folder"; echo ready; sleep 30`],
      logFile: join(dir, 'writer.log'),
      pidFile: join(dir, 'writer.pid'),
      graceSeconds: 1,
    });
    try {
      await eventually(async () => expect(child.logTail()).toContain('ready'), 10_000);
      expect(openToOthers(dir)).toEqual([]);
    } finally {
      await child.stop();
    }
  });
});
