import type { Logger } from '@wxp/service-runtime';
import type { Context, Middleware } from 'koa';

/**
 * One line per request: method, route, status, duration, address and the credential that acted.
 * The route is the pattern that matched (`/api/apps/:appId/subscribers`) or a public path, never
 * the path as sent, so neither ids nor an attacker's text reach the log; headers are never logged.
 */
export function accessLog(logger: Logger, isPublic: (ctx: Context) => boolean): Middleware {
  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const actor: unknown = ctx.state.actor;
      logger.info(
        {
          method: ctx.method,
          route: typeof matched === 'string' ? matched : isPublic(ctx) ? ctx.path : null,
          status: ctx.status,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          remote: ctx.ip,
          ...(typeof actor === 'string' ? { actor } : {}),
        },
        'admin request',
      );
    }
  };
}

/** Answers are never stored by a cache and never sniffed into another type. */
export function securityHeaders(): Middleware {
  return async function setSecurityHeaders(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  };
}
