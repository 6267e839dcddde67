import type { Account } from '@wxp/accounts';
import { errorMapper, healthRoutes, HttpError, type Logger, type Registry } from '@wxp/service-runtime';
import Koa, { type Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { controlRoutes } from './control-routes';
import { EmulatedApp } from './emulated-wechat';
import { wechatApiRoutes } from './wechat-api-routes';

export interface EmulatorDeps {
  accounts: ReadonlyMap<string, Account>;
  tokenTtlSeconds: number;
  tokenOverlapSeconds: number;
  gatewayUrl: string;
  pushTimeoutMs: number;
  pushRetryDelayMs: number;
  logger: Logger;
  metrics: Registry;
  now?: () => number;
}

export interface Emulator {
  app: Koa;
  /**
   * Takes the accounts of a reloaded file: a new account is added, a changed one keeps its state
   * (tokens, users, menu) with its new settings, a removed one is forgotten.
   */
  reloadAccounts(accounts: ReadonlyMap<string, Account>): void;
}

/** A local stand-in for api.weixin.qq.com that can also act as WeChat towards the gateway. */
export function createEmulatorApp(deps: EmulatorDeps): Koa {
  return createEmulator(deps).app;
}

export function createEmulator(deps: EmulatorDeps): Emulator {
  const now = deps.now ?? Date.now;
  const apps = new Map<string, EmulatedApp>();
  let accounts = deps.accounts;
  const reset = () => {
    apps.clear();
    for (const [appId, account] of accounts) apps.set(appId, new EmulatedApp(account));
  };
  reset();
  const reloadAccounts = (fresh: ReadonlyMap<string, Account>) => {
    accounts = fresh;
    for (const appId of [...apps.keys()]) if (!fresh.has(appId)) apps.delete(appId);
    for (const [appId, account] of fresh) {
      const known = apps.get(appId);
      if (known) known.account = account;
      else apps.set(appId, new EmulatedApp(account));
    }
  };

  const app = new Koa();
  app.use(errorMapper(deps.logger));
  app.use(jsonBodies());
  app.use(healthRoutes(deps.metrics).routes());
  const api = wechatApiRoutes({
    apps,
    tokenTtlSeconds: deps.tokenTtlSeconds,
    tokenOverlapSeconds: deps.tokenOverlapSeconds,
    now,
  });
  app.use(api.routes());
  const control = controlRoutes({
    apps,
    reset,
    delivery: {
      gatewayUrl: deps.gatewayUrl,
      timeoutMs: deps.pushTimeoutMs,
      retryDelayMs: deps.pushRetryDelayMs,
      now,
    },
  });
  app.use(control.routes());
  app.use(control.allowedMethods());
  return { app, reloadAccounts };
}

/**
 * Bodies are JSON and say so: a body of any other declared type is refused with 415 before it is
 * read, rather than parsed as JSON whatever it claims to be. A body that does not parse is refused
 * without quoting it back.
 */
function jsonBodies(): Middleware {
  const parse = koaBody({ json: true, jsonLimit: '1mb', text: false, urlencoded: false, multipart: false });
  return async (ctx, next) => {
    if (ctx.request.is('application/json') === false) {
      throw new HttpError(415, 'unsupported_media_type', 'request bodies must be application/json');
    }
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 413) throw new HttpError(413, 'body_too_large', 'the body is larger than 1 MB');
      throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
    }
    await next();
  };
}
