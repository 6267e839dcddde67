import Router from '@koa/router';
import type { Registry } from 'prom-client';

export type HealthCheck = () => Promise<void>;

/**
 * `GET /healthz` runs every check (200 when all pass, 503 naming the failed ones) and
 * `GET /metrics` serves the Prometheus registry. Both are open: they hold no user data.
 */
export function healthRoutes(registry: Registry, checks: Record<string, HealthCheck> = {}): Router {
  // Exact paths only: `/HEALTHZ` or `/metrics/` are not these routes, and deny-by-default apps refuse them.
  const router = new Router({ sensitive: true, strict: true });
  router.get('/healthz', async (ctx) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, (error as Error).message || 'failed'] as const;
        }
      }),
    );
    const failed = results.filter(([, result]) => result !== 'ok');
    ctx.status = failed.length === 0 ? 200 : 503;
    ctx.body = { status: failed.length === 0 ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}
