import type { Account } from '@wxp/accounts';
import { errorMapper, healthRoutes, type Logger, type Registry } from '@wxp/service-runtime';
import Koa from 'koa';
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

/** A local stand-in for api.weixin.qq.com that can also act as WeChat towards the gateway. */
export function createEmulatorApp(deps: EmulatorDeps): Koa {
  const now = deps.now ?? Date.now;
  const apps = new Map<string, EmulatedApp>();
  const reset = () => {
    apps.clear();
    for (const [appId, account] of deps.accounts) apps.set(appId, new EmulatedApp(account));
  };
  reset();

  const app = new Koa();
  app.use(errorMapper(deps.logger));
  // WeChat reads JSON whatever the Content-Type says.
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST') ctx.request.headers['content-type'] = 'application/json';
    await next();
  });
  app.use(koaBody({ json: true, jsonLimit: '1mb', text: false, urlencoded: false, multipart: false }));
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
  return app;
}
