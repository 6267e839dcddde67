import { join } from 'node:path';
import type { Account } from '@wxp/accounts';
import { freePort } from '@wxp/devstack';
import { startNodeProcess, waitForHttp, type NodeProcess } from './child-processes';

export interface BaselineServer {
  origin: string;
  process: NodeProcess;
}

async function startBaseline(script: string, env: Record<string, string>): Promise<BaselineServer> {
  const port = await freePort();
  const child = startNodeProcess({
    script: join(__dirname, 'baselines', script),
    env: { ...process.env, ...env, BASELINE_PORT: String(port) },
    captureOutput: true,
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(`${origin}/healthz`, child);
  return { origin, process: child };
}

/** koa answering "success": how fast this machine can answer a push at all. */
export function startCeilingServer(): Promise<BaselineServer> {
  return startBaseline('ceiling-server.js', {});
}

/** The node-webot middleware for one account: verifies, decrypts and parses, then answers. */
export function startNodeWebotServer(account: Account): Promise<BaselineServer> {
  return startBaseline('node-webot-server.js', { BASELINE_ACCOUNT: JSON.stringify(account) });
}

/** The gateway without sealing, publishing to a topic of the benchmark's own (see the script). */
export function startUnsealedGateway(env: Record<string, string>): Promise<BaselineServer> {
  return startBaseline('unsealed-gateway.js', env);
}
