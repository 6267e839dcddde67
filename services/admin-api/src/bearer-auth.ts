import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '@wxp/service-runtime';
import type { Middleware } from 'koa';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Requires `Authorization: Bearer <token>`; compares digests so timing tells nothing about the token. */
export function bearerAuth(token: string): Middleware {
  const expected = digest(token);
  return async function requireBearer(ctx, next) {
    const match = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
    }
    await next();
  };
}
