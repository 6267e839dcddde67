import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Runs the command in its own process group under a small shell guard: the guard ends the command
 * when this Node process disappears, even by SIGKILL, so no broker or store outlives a test run.
 * The command runs with umask 077: what it writes under .data/ (store files, Kafka segments, logs)
 * is its owner's alone. SIGHUP to the guard either stops the command like SIGTERM or, for services
 * that reload their files on SIGHUP, is passed on to it.
 */
const guardScript = `
parent=$1; grace=$2; hangup=$3; shift 3
umask 077
child=
finish() {
  trap '' HUP
  [ -n "$child" ] || exit 143
  kill -TERM "$child" 2>/dev/null
  waited=0
  while kill -0 "$child" 2>/dev/null && [ "$waited" -lt "$((grace * 10))" ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL "$child" 2>/dev/null
  wait "$child"; exit $?
}
trap finish TERM INT
if [ "$hangup" = forward ]; then
  trap '[ -n "$child" ] && kill -HUP "$child" 2>/dev/null' HUP
else
  trap finish HUP
fi
"$@" &
child=$!
while kill -0 "$parent" 2>/dev/null; do
  if ! kill -0 "$child" 2>/dev/null; then wait "$child"; exit $?; fi
  sleep 1 & wait $!
done
finish
`;

export interface SupervisedProcessOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Written with the process group id, so a later start can clean up after a crashed one. */
  pidFile: string;
  /** Seconds between SIGTERM and SIGKILL on stop. */
  graceSeconds?: number;
  /**
   * 'forward': SIGHUP to the recorded pid reaches the command (a service reloading its accounts).
   * 'stop' (the default): SIGHUP stops it as SIGTERM does.
   */
  onHangup?: 'forward' | 'stop';
}

export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code when the process ends for any reason. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  /** SIGKILL to the whole group at once, as a machine losing power would: no shutdown at all. */
  kill(): Promise<void>;
  logTail(lines?: number): string;
}

/** Whether any process of the group is still there. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined
 * when it is gone: with its pid, it names the process for good, as a pid that is reused does not.
 */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Ends a process group left behind by an earlier run that could not clean up. The pid file names
 * the group's leader and when it started: a leader that started at another time is a process that
 * took the number since (after a reboot, say), whose group is left alone. A leader that is gone
 * while its group lives on is still ours: no process is given a number that names a living group.
 */
export async function killStaleProcess(pidFile: string): Promise<boolean> {
  if (!existsSync(pidFile)) return false;
  const [pgidText, startedAt] = readFileSync(pidFile, 'utf8').trim().split(/\s+/);
  const pgid = Number(pgidText);
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pgid) || pgid <= 1 || !processGroupAlive(pgid)) return false;
  const leaderStartedAt = startTimeOf(pgid);
  if (startedAt !== undefined && leaderStartedAt !== undefined && leaderStartedAt !== startedAt) return false;
  process.kill(-pgid, 'SIGTERM');
  for (let i = 0; i < 100 && processGroupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  if (processGroupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  return true;
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function startSupervisedProcess(options: SupervisedProcessOptions): SupervisedProcess {
  const grace = options.graceSeconds ?? 15;
  const out = openSync(options.logFile, 'a', 0o600);
  const child: ChildProcess = spawn(
    'bash',
    [
      '-c',
      guardScript,
      'guard',
      String(process.pid),
      String(grace),
      options.onHangup ?? 'stop',
      options.command,
      ...options.args,
    ],
    { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const pid = child.pid;
  writeFileSync(options.pidFile, `${pid} ${startTimeOf(pid) ?? ''}`.trim(), { mode: 0o600 });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      rmSync(options.pidFile, { force: true });
      resolve(code);
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    logTail: (lines = 30) => tailOf(options.logFile, lines),
    stop() {
      stopping ??= (async () => {
        // Only the guard is signalled: it passes SIGTERM on once. Signalling the whole group would
        // reach the child twice, and a service takes a second SIGTERM as "exit now".
        if (processGroupAlive(pid)) process.kill(pid, 'SIGTERM');
        await exited;
        // The guard is gone; whatever of its group is left (it died before its trap was set, say)
        // gets the same grace and then SIGKILL.
        const deadline = Date.now() + grace * 1000;
        while (processGroupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (processGroupAlive(pid)) process.kill(-pid, 'SIGKILL');
        for (let i = 0; i < 50 && processGroupAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      })();
      return stopping;
    },
    async kill() {
      if (processGroupAlive(pid)) process.kill(-pid, 'SIGKILL');
      await exited;
      for (let i = 0; i < 50 && processGroupAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

/** Polls `probe` until it succeeds, the process exits, or the deadline passes; errors name the log. */
export async function waitUntilReady(
  proc: SupervisedProcess,
  probe: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${proc.name} exited with code ${exitCode} while starting; log ${proc.logFile}:\n${proc.logTail()}`,
      );
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await proc.stop();
  throw new Error(
    `${proc.name} did not become ready within ${timeoutMs} ms (${(lastError as Error)?.message ?? 'no answer'}); log ${proc.logFile}:\n${proc.logTail()}`,
  );
}
