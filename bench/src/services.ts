import { join } from 'node:path';
import { freePort, repoRoot } from '@wxp/devstack';
import { startNodeProcess, waitForHttp, type NodeProcess } from './child-processes';

/** A built service of this repository running as its own process, as it runs in production. */
export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly process: NodeProcess;
  /** Starts the same service again with the same variables (after a SIGKILL, say). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Peak RSS over every incarnation, in MB. */
  peakRssMb(): number;
}

export interface ServiceOptions {
  /** Variables beyond the port, which is chosen here. */
  env: Record<string, string>;
  nodeArgs?: string[];
  /** A restart does not wait for health: it is what a crash-looping deployment would do. */
  waitOnRestart?: boolean;
}

const portVariable: Record<string, string> = {
  gateway: 'GATEWAY_PORT',
  'subscriber-projection': 'SUBSCRIBER_PROJECTION_PORT',
  'qr-attribution': 'QR_ATTRIBUTION_PORT',
  'menu-responder': 'MENU_RESPONDER_PORT',
  'profile-enricher': 'PROFILE_ENRICHER_PORT',
  'wechat-emulator': 'WECHAT_EMULATOR_PORT',
};

export async function startService(name: string, options: ServiceOptions): Promise<RunningService> {
  const port = await freePort();
  const variable = portVariable[name];
  if (!variable) throw new Error(`no port variable known for ${name}`);
  const env = { ...process.env, LOG_LEVEL: 'error', ...options.env, [variable]: String(port) };
  const url = `http://127.0.0.1:${port}`;
  const launch = () =>
    startNodeProcess({
      script: join(repoRoot(), 'services', name, 'dist', 'main.js'),
      env,
      captureOutput: true,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
  let current = launch();
  let earlierPeak = 0;
  // /healthz of the emulator is its own; every service serves one.
  await waitForHttp(`${url}/healthz`, current);
  return {
    name,
    url,
    get process() {
      return current;
    },
    async restart() {
      earlierPeak = Math.max(earlierPeak, current.peakRssMb());
      await current.stop(1000);
      current = launch();
      if (options.waitOnRestart) await waitForHttp(`${url}/healthz`, current);
    },
    stop: () => current.stop(),
    peakRssMb: () => Math.max(earlierPeak, current.peakRssMb()),
  };
}
