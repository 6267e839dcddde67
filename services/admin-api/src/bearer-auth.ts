import { Counter, HttpError, type Registry } from '@wxp/service-runtime';
import type { Context, Middleware } from 'koa';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthThrottle } from './auth-throttle';

/** The name recorded for commands made with ADMIN_TOKEN: who acted, never the credential. */
export const ADMIN_TOKEN_ACTOR = 'admin-token';

export interface CredentialOptions {
  token: string;
  /** Requests anyone may make; every other request needs the token. */
  isPublic(ctx: Context): boolean;
  throttle: AuthThrottle;
  metrics: Registry;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function counter(metrics: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  return (
    (metrics.getSingleMetric(name) as Counter | undefined) ??
    new Counter({ name, help, labelNames, registers: [metrics] })
  );
}

/**
 * Deny by default: every request that is not public needs `Authorization: Bearer <token>`, before
 * any route is looked at. An address that failed too often is answered 429 before its token is
 * even compared. Tokens are compared as digests, so timing tells nothing about the token.
 */
export function requireCredential(options: CredentialOptions): Middleware {
  const expected = digest(options.token);
  const failures = counter(
    options.metrics,
    'wxp_admin_auth_failures_total',
    'Admin API requests refused 401 for a missing or wrong bearer token',
    ['reason'],
  );
  const throttled = counter(
    options.metrics,
    'wxp_admin_auth_throttled_total',
    'Admin API requests refused 429 because their address failed authentication too often',
  );
  return async function requireBearer(ctx, next) {
    if (options.isPublic(ctx)) return next();
    const wait = options.throttle.waitSeconds(ctx.ip);
    if (wait > 0) {
      throttled.inc();
      ctx.set('Retry-After', String(wait));
      throw new HttpError(
        429,
        'too_many_failures',
        'too many failed authentications from this address: try again later',
      );
    }
    const presented = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      options.throttle.recordFailure(ctx.ip);
      failures.inc({ reason: presented ? 'wrong' : 'missing' });
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
    }
    options.throttle.forgive(ctx.ip);
    ctx.state.actor = ADMIN_TOKEN_ACTOR;
    await next();
  };
}

/** The credential that authorised the request, as recorded on the events it causes. */
export function actorOf(ctx: Context): string {
  const actor: unknown = ctx.state.actor;
  if (typeof actor !== 'string') throw new Error('a command ran without an authenticated credential');
  return actor;
}
