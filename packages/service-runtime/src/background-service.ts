import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { healthRoutes, type HealthCheck } from './health-routes';
import { startHttpServer } from './http-server';
import { stopOnSignals } from './shutdown';

export interface BackgroundServiceOptions {
  logger: Logger;
  metrics: Registry;
  port: number;
  host: string;
  checks: Record<string, HealthCheck>;
  /** Stops the work (leave the consumer group, close connections); the health server closes after. */
  stop(): Promise<void>;
  /** Logged once the service is up. */
  started: Record<string, unknown>;
}

/** For services without an API of their own (consumers): /healthz, /metrics, and a clean stop on signals. */
export async function serveBackgroundService(options: BackgroundServiceOptions): Promise<void> {
  const app = new Koa();
  app.use(healthRoutes(options.metrics, options.checks).routes());
  const server = await startHttpServer(app, options.port, options.host);
  options.logger.info({ port: server.port, ...options.started }, 'running');
  stopOnSignals(options.logger, async () => {
    await options.stop();
    await server.close();
  });
}
