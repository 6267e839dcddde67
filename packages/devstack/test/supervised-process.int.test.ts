import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processGroupAlive, startSupervisedProcess } from '../src/supervised-process';
import { eventually } from '../../../test/support/infrastructure';

const dir = mkdtempSync(join(tmpdir(), 'wxp-supervised-'));

describe('supervised processes', () => {
  it('end when the process that started them is killed with SIGKILL', async () => {
    // A separate Node process starts the child, reports its group, then is killed without warning.
    const starter = spawn(
      process.execPath,
      [
        '-e',
        `const { startSupervisedProcess } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'supervised-process.js'))});
         const p = startSupervisedProcess({ name: 'sleeper', command: 'sleep', args: ['300'],
           logFile: ${JSON.stringify(join(dir, 'sleeper.log'))}, pidFile: ${JSON.stringify(join(dir, 'sleeper.pid'))} });
         process.stdout.write(String(p.pid) + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pgid = await new Promise<number>((resolve) =>
      starter.stdout.once('data', (d) => resolve(Number(String(d)))),
    );
    expect(processGroupAlive(pgid)).toBe(true);
    starter.kill('SIGKILL');
    await eventually(async () => expect(processGroupAlive(pgid)).toBe(false), 10_000, 200);
  });

  it('are killed after the grace period when they ignore SIGTERM', async () => {
    const stubborn = startSupervisedProcess({
      name: 'stubborn',
      command: 'bash',
      args: ['-c', 'trap "" TERM; echo ready; while true; do sleep 0.2; done'],
      logFile: join(dir, 'stubborn.log'),
      pidFile: join(dir, 'stubborn.pid'),
      graceSeconds: 1,
    });
    await eventually(async () => expect(stubborn.logTail()).toContain('ready'), 5000);
    const started = Date.now();
    await stubborn.stop();
    expect(processGroupAlive(stubborn.pid)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
