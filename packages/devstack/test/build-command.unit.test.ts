import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToCompletion, shownArguments } from '../src/build-command';

describe('a command of the local stack that fails', () => {
  it('is reported with the passwords of its arguments masked', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'wxp-build-command-')), 'tool.log');
    const failure = await runToCompletion(
      'sh',
      [
        '-c',
        'exit 3',
        '-storepass',
        'store-secret-1',
        '--add-scram',
        'SCRAM-SHA-512=[name=gateway,password=scram-secret-2]',
      ],
      { logFile },
    ).catch((error: unknown) => error as Error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toContain('exit 3');
    expect(failure!.message).not.toMatch(/store-secret-1|scram-secret-2/);
    expect(failure!.message).toContain('-storepass ***');
    expect(failure!.message).toContain('name=gateway,password=***]');
  });

  it('masks nothing else', () => {
    expect(
      shownArguments(['-genkeypair', '-alias', 'broker', '-keypass', 'k', '-dname', 'CN=localhost']),
    ).toEqual(['-genkeypair', '-alias', 'broker', '-keypass', '***', '-dname', 'CN=localhost']);
  });
});
