import { spawn } from 'node:child_process';

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node program as its user would, to its end, with its output collected. */
export function runNodeProgram(
  script: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
