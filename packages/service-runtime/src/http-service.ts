import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { logConnectionErrors } from './http-errors';
import { startHttpServer, type HttpServerLimits } from './http-server';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';
import { startMetricsServer, withoutMetrics } from './metrics-port';
import { surviveHangup } from './reload-signal';
import { exitOnStartupError, stopOnSignals } from './shutdown';

export interface HttpServiceParts {
  app: Koa;
  port: number;
  host: string;
  /** Timeouts and connection cap where the service needs tighter ones than every service gets. */
  limits?: Partial<HttpServerLimits>;
  /** Logged once the service listens. */
  started?: Record<string, unknown>;
  /** Closes what the app uses, after the server has stopped taking requests. */
  stop?(): Promise<void>;
  /**
   * A port of its own for /metrics, which the app's port then no longer serves: the metrics stay
   * on the monitoring network while the app's port faces WeChat or operators.
   */
  metricsPort?: number | undefined;
}

/**
 * The life of a service with an HTTP API: logger and metrics, `build` (which reads and checks the
 * configuration and connects what it needs), listening, and a clean stop on SIGTERM or SIGINT.
 * A configuration problem prints its lines and exits non-zero.
 */
export function runHttpService(
  service: string,
  build: (context: { logger: Logger; metrics: Registry }) => Promise<HttpServiceParts>,
): void {
  const logger = createLogger(service);
  const metrics = createMetricsRegistry(service);
  const main = async () => {
    const parts = await build({ logger, metrics });
    logConnectionErrors(parts.app, logger);
    surviveHangup(logger);
    const separate = parts.metricsPort !== undefined;
    const server = await startHttpServer(
      separate ? withoutMetrics(parts.app) : parts.app,
      parts.port,
      parts.host,
      parts.limits,
    );
    const metricsServer = separate
      ? await startMetricsServer(metrics, parts.metricsPort as number, parts.host)
      : undefined;
    logger.info({ port: server.port, metricsPort: metricsServer?.port, ...parts.started }, 'listening');
    stopOnSignals(logger, async () => {
      await server.close();
      await metricsServer?.close();
      await parts.stop?.();
    });
  };
  main().catch((error: unknown) => exitOnStartupError(service, logger, error));
}
