import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Options whose next argument is a password (keytool's). */
const passwordOptions = new Set([
  '-storepass',
  '-keypass',
  '-srcstorepass',
  '-deststorepass',
  '-srckeypass',
  '-destkeypass',
]);

/** The arguments as an error may show them: passwords given on the command line are masked. */
export function shownArguments(args: readonly string[]): string[] {
  return args.map((arg, index) => {
    if (index > 0 && passwordOptions.has(args[index - 1]!)) return '***';
    return arg.replace(/(password=)("[^"]*"|[^,\]\s]*)/gi, '$1***');
  });
}

/** Runs a command to completion with its output in `logFile`; a failure quotes the end of that log. */
export function runToCompletion(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    logFile: string;
    /** Files the command writes are its owner's alone (umask 077): for what goes under .data/. */
    privateFiles?: boolean;
  },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(options.logFile, 'a', 0o600);
    const [program, argv]: [string, string[]] = options.privateFiles
      ? ['sh', ['-c', 'umask 077 && exec "$@"', 'sh', command, ...args]]
      : [command, args];
    const child = spawn(program, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-25).join('\n');
      reject(
        new Error(
          `${command} ${shownArguments(args).join(' ')} failed (${signal ?? `exit ${code}`}); log ${options.logFile}:\n${tail}`,
        ),
      );
    });
  });
}

/** Fails with a one-line remedy when a tool the local stack needs is not installed. */
export function requireTool(command: string, versionArgs: string[], remedy: string): string {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} is needed by the local stack but was not found: ${remedy}`);
  }
  return `${result.stdout}${result.stderr}`;
}

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}
