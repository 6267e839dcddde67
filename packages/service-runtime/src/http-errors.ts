import { STATUS_CODES } from 'node:http';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** The one error type HTTP handlers throw: a stable code, a status and whether the message may be shown. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly expose = status < 500,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The route pattern that matched (`/api/apps/:appId/users/:openId`), or null: the path as sent
 * carries openIds and whatever an attacker typed, and neither may reach a log.
 */
function routeOf(ctx: Koa.Context): string | null {
  const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : null;
}

/** Maps HttpError to a JSON body and anything unexpected to a generic 500 and a log line. */
export function errorMapper(logger: Logger): Middleware {
  return async function mapErrors(ctx, next) {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.body = { error: error.code, message: error.expose ? error.message : 'internal error' };
        if (error.status >= 500) logger.error({ err: error, route: routeOf(ctx) }, 'request failed');
        return;
      }
      const status = (error as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        // A library's refusal (a body parser's, say) may quote what was sent: only the status is told.
        ctx.status = status;
        ctx.body = { error: 'bad_request', message: STATUS_CODES[status] ?? 'bad request' };
        return;
      }
      logger.error({ err: error, method: ctx.method, route: routeOf(ctx) }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: 'internal', message: 'internal error' };
    }
  };
}

/**
 * Koa prints a stack for every request that failed after its answer could no longer be given (a
 * client gone, a request cut off by the server's timeouts); one line without the request is enough.
 */
export function logConnectionErrors(app: Koa, logger: Logger): void {
  if (app.listenerCount('error') > 0) return;
  app.on('error', (error: NodeJS.ErrnoException) => {
    logger.info({ code: error.code ?? 'unknown' }, 'connection ended before its answer');
  });
}
