import type { Account } from '@wxp/accounts';
import { createMetricsRegistry, startHttpServer } from '@wxp/service-runtime';
import pino from 'pino';
import { createEmulatorApp } from '../../services/wechat-emulator/src/app';

export interface RunningEmulator {
  baseUrl: string;
  state(appId: string): Promise<EmulatorState>;
  control(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface EmulatorState {
  tokenRequests: number;
  menu: unknown;
  qrcodes: { ticket: string; sceneId?: number; sceneStr?: string; expiresAt?: number }[];
  users: {
    openId: string;
    name: string;
    subscribe: number;
    qrScene: number;
    qrSceneStr: string;
    tags?: number[];
  }[];
  messages: { touser: string; msgtype: string; message: Record<string, unknown> }[];
  tags?: { id: number; name: string; count: number }[];
  calls?: Record<string, number>;
}

/** The WeChat emulator on a free port, as the local stack runs it. */
export async function startEmulator(
  accounts: Account[],
  options: {
    gatewayUrl?: string;
    tokenTtlSeconds?: number;
    tokenOverlapSeconds?: number;
    pushTimeoutMs?: number;
    /** The emulator's clock (token expiry, push CreateTime); a test moves it instead of waiting. */
    now?: () => number;
  } = {},
): Promise<RunningEmulator> {
  const server = await startHttpServer(
    createEmulatorApp({
      accounts: new Map(accounts.map((a) => [a.appId, a])),
      tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
      tokenOverlapSeconds: options.tokenOverlapSeconds ?? 300,
      gatewayUrl: options.gatewayUrl ?? 'http://127.0.0.1:9',
      pushTimeoutMs: options.pushTimeoutMs ?? 5000,
      pushRetryDelayMs: 0,
      ...(options.now === undefined ? {} : { now: options.now }),
      logger: pino({ level: 'silent' }),
      metrics: createMetricsRegistry('wechat-emulator'),
    }),
    0,
  );
  const baseUrl = `http://127.0.0.1:${server.port}`;
  return {
    baseUrl,
    async state(appId) {
      return (await (await fetch(`${baseUrl}/emulator/state?appId=${appId}`)).json()) as EmulatorState;
    },
    async control(path, body) {
      const response = await fetch(`${baseUrl}/emulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: () => server.close(),
  };
}
