import Koa from 'koa';
import type { Registry } from 'prom-client';
import { loadConfig, port } from './config';
import { startHttpServer, type RunningServer } from './http-server';

/**
 * The port named by `variable` (GATEWAY_METRICS_PORT, say), or undefined when it is not set:
 * then /metrics stays on the service's own port, as before.
 */
export function metricsPortFrom(variable: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const config = loadConfig(
    { [variable]: port({ default: undefined, desc: 'Port of /metrics, apart from the API' }) },
    env,
  );
  const value = config[variable] as number | undefined;
  return value;
}

function isMetricsPath(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  return decoded.toLowerCase().replace(/\/+$/, '') === '/metrics';
}

/** A path no app has a route for: what /metrics becomes on a public port once it has a port of its own. */
const METRICS_SERVED_ELSEWHERE = '/.metrics-served-elsewhere';

/**
 * The app as served on its public port once metrics have a port of their own: /metrics (in any
 * case and with a trailing slash, as the router would match it) reaches the app as a path it has
 * no route for, so the app answers it as any unknown path (404, or 401 where a token is wanted),
 * with its own headers and its own log line; every other request reaches the app untouched.
 */
export function withoutMetrics(app: Koa): Koa {
  const front = new Koa();
  front.proxy = app.proxy;
  const handle = app.callback();
  front.use(async (ctx) => {
    if (isMetricsPath(ctx.path)) ctx.req.url = METRICS_SERVED_ELSEWHERE;
    ctx.respond = false;
    await handle(ctx.req, ctx.res);
  });
  return front;
}

/** /metrics alone, for a port that only the monitoring network reaches. */
export function startMetricsServer(
  registry: Registry,
  metricsPort: number,
  host: string,
): Promise<RunningServer> {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'GET' || !isMetricsPath(ctx.path)) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', message: 'not found' };
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return startHttpServer(app, metricsPort, host);
}
