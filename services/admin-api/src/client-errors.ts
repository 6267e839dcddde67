import { HttpError } from '@wxp/service-runtime';
import type { Middleware } from 'koa';
import { STATUS_CODES } from 'node:http';

const snake = (text: string) => text.toLowerCase().replace(/[^a-z]+/g, '_');

// The body parser's errors carry its words, which may quote the body: only these are shown.
const messages: Record<string, string> = {
  'entity.parse.failed': 'the body is not valid JSON',
  'entity.too.large': 'the body is larger than 256 kb',
  'encoding.unsupported': 'the body’s encoding is not supported',
  'request.aborted': 'the request was aborted',
};

/**
 * Client errors that are not ours (the body parser's, koa's) become a JSON error with a fixed
 * message; a request no route answered becomes a JSON 404, one with a method its route does not
 * take a JSON 405.
 */
export function cleanClientErrors(): Middleware {
  return async function cleanErrors(ctx, next) {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const { status, type } = error as { status?: unknown; type?: unknown };
      if (typeof status !== 'number' || status < 400 || status >= 500) throw error;
      const message =
        (typeof type === 'string' ? messages[type] : undefined) ??
        (error instanceof SyntaxError ? 'the body is not valid JSON' : STATUS_CODES[status]);
      throw new HttpError(status, snake(STATUS_CODES[status] ?? 'bad request'), message ?? 'bad request');
    }
    if (ctx.body !== undefined && ctx.body !== null) return;
    if (ctx.status === 404) throw new HttpError(404, 'not_found', 'no such route');
    if (ctx.status === 405 || ctx.status === 501)
      throw new HttpError(405, 'method_not_allowed', 'the route does not take this method');
  };
}
