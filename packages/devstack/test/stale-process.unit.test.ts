import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killStaleProcess, processGroupAlive, startTimeOf } from '../src/supervised-process';

describe('a pid file left by an earlier run', () => {
  it('does not end a process group that took its number since', async () => {
    // An unrelated process leading a group of its own, named by a pid file of another start time.
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const pgid = stranger.pid!;
      expect(startTimeOf(pgid)).toMatch(/^\d+$/);
      const pidFile = join(mkdtempSync(join(tmpdir(), 'wxp-stale-pid-')), 'broker.pid');
      writeFileSync(pidFile, `${pgid} 1`);
      expect(await killStaleProcess(pidFile)).toBe(false);
      expect(processGroupAlive(pgid)).toBe(true);
      // Named with its own start time, it is the group the file means, and it is ended.
      writeFileSync(pidFile, `${pgid} ${startTimeOf(pgid)}`);
      expect(await killStaleProcess(pidFile)).toBe(true);
      expect(processGroupAlive(pgid)).toBe(false);
    } finally {
      if (stranger.exitCode === null) stranger.kill('SIGKILL');
    }
  });
});
