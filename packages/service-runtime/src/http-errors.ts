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
  ) {
    super(message);
  }
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
        if (error.status >= 500) logger.error({ err: error, path: ctx.path }, 'request failed');
        return;
      }
      const status = (error as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { error: 'bad_request', message: (error as Error).message };
        return;
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: 'internal', message: 'internal error' };
    }
  };
}
