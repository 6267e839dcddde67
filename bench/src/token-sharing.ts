import { join } from 'node:path';
import { startNodeProcess } from './child-processes';
import type { PhaseContext } from './phase-context';
import type { PhaseResult } from './results';
import { startService } from './services';

const PROCESSES = 4;
const CALLS_PER_PROCESS = 250;

/**
 * 1,000 concurrent API calls from four processes with an empty token store: the emulator counts
 * how many times an access_token was asked for. The shared token means one.
 */
export async function tokenSharing(context: PhaseContext): Promise<PhaseResult> {
  const started = Date.now();
  const account = context.accounts.plain;
  const emulator = await startService('wechat-emulator', {
    env: { WECHAT_ACCOUNTS_FILE: context.accounts.file },
  });
  const mongoUrl = context.stack.mongoUrl(`bench_token_${Date.now().toString(36)}`);
  let outputs: string[];
  let tokenRequests: number;
  try {
    outputs = await Promise.all(
      Array.from({ length: PROCESSES }, async () => {
        const worker = startNodeProcess({
          script: join(__dirname, 'token-worker.js'),
          env: {
            ...process.env,
            MONGO_URL: mongoUrl,
            WECHAT_API_BASE: emulator.url,
            WECHAT_ACCOUNTS_FILE: context.accounts.file,
            TOKEN_APP_ID: account.appId,
            TOKEN_CALLS: String(CALLS_PER_PROCESS),
          },
          captureOutput: true,
        });
        const code = await worker.exited;
        if (code !== 0) throw new Error(`token worker exited ${code}: ${worker.output()}`);
        return worker.output().trim();
      }),
    );
    const state = (await (await fetch(`${emulator.url}/emulator/state?appId=${account.appId}`)).json()) as {
      tokenRequests: number;
    };
    tokenRequests = state.tokenRequests;
  } finally {
    context.memory.record(
      'wechat-emulator',
      `${PROCESSES * CALLS_PER_PROCESS} API calls`,
      emulator.peakRssMb(),
    );
    await emulator.stop();
  }
  const ok = outputs.reduce((sum, line) => sum + Number(/^(\d+) ok/.exec(line)?.[1] ?? 0), 0);
  context.log(`token: ${ok} calls succeeded, ${tokenRequests} token requests`);
  return {
    id: 'token',
    title: '4. Shared access_token',
    setup: [
      `${PROCESSES} processes, each making ${CALLS_PER_PROCESS} concurrent \`user/get\` calls through the WeChat API client (wechatApiFromEnv) against the WeChat emulator, with no token stored yet.`,
    ],
    figures: [
      {
        name: `token requests for ${PROCESSES * CALLS_PER_PROCESS} concurrent calls in ${PROCESSES} processes`,
        value: `${tokenRequests} (calls succeeded: ${ok} of ${PROCESSES * CALLS_PER_PROCESS})`,
        target: '1',
        met: tokenRequests === 1 && ok === PROCESSES * CALLS_PER_PROCESS,
      },
    ],
    tables: [],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
