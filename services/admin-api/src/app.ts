import Router from '@koa/router';
import type { Account } from '@wxp/accounts';
import { ReadModels } from '@wxp/contracts';
import type { OutgoingEvent } from '@wxp/kafka';
import type { MongoConnection } from '@wxp/mongo';
import { DataKeyStore } from '@wxp/privacy';
import { errorMapper, healthRoutes, type Logger, type Registry } from '@wxp/service-runtime';
import Koa, { type Context } from 'koa';
import { accessLog, securityHeaders } from './access-log';
import { accountOperations } from './account-routes';
import type { AdminWechatApi, CommandContext } from './admin-commands';
import { AuthThrottle, defaultAuthThrottle, type AuthThrottleOptions } from './auth-throttle';
import { requireCredential } from './bearer-auth';
import { campaignOperations } from './campaign-routes';
import { cleanClientErrors } from './client-errors';
import { dashboard, dashboardPaths } from './dashboard';
import { erasureOperations } from './erasure-routes';
import { funnelOperations } from './funnel-routes';
import { menuOperations } from './menu-routes';
import { openApiDocument, openApiYaml } from './openapi';
import { mountOperations, type BoundOperation } from './operation';
import { qrCodeOperations } from './qr-code-routes';
import { replyOperations } from './reply-routes';
import { subscriberOperations } from './subscriber-routes';
import { wechatErrors } from './wechat-errors';

export interface AdminApiDeps {
  mongo: MongoConnection;
  adminToken: string;
  privacyKey: string;
  /** Users' data keys, which an erasure destroys; the default is the store's `user_data_keys`. */
  keys?: DataKeyStore;
  accounts: ReadonlyMap<string, Account>;
  wechat: AdminWechatApi;
  /** Writes a command's event to Kafka; resolves once the broker acknowledged it. */
  publish(event: OutgoingEvent): Promise<void>;
  logger: Logger;
  metrics: Registry;
  /** Where the built dashboard is; the default is the package's dist/dashboard. */
  dashboardDir?: string;
  /** When an address is answered 429 after failed authentications; `defaultAuthThrottle` unless set. */
  authThrottle?: Partial<AuthThrottleOptions>;
}

/** What anyone may GET without the token, matched exactly: the dashboard's files, health, metrics, documents. */
export const publicPaths: ReadonlySet<string> = new Set([
  ...dashboardPaths,
  '/healthz',
  '/metrics',
  '/openapi.json',
  '/openapi.yaml',
]);

export const isPublicRequest = (ctx: Context): boolean =>
  (ctx.method === 'GET' || ctx.method === 'HEAD') && publicPaths.has(ctx.path);

/** Every /api operation, bound to its dependencies. */
export function adminOperations(deps: AdminApiDeps): BoundOperation[] {
  const db = deps.mongo.db;
  const commands: CommandContext = { accounts: deps.accounts, wechat: deps.wechat, publish: deps.publish };
  return [
    ...accountOperations(deps.accounts),
    ...qrCodeOperations(db, commands),
    ...campaignOperations(db),
    ...funnelOperations(db),
    ...menuOperations(commands),
    ...replyOperations(db, commands, ReadModels.replyRules),
    ...subscriberOperations({
      db,
      privacyKey: deps.privacyKey,
      subscribersCollection: ReadModels.subscribers,
      countsCollection: ReadModels.followerCounts,
    }),
    ...erasureOperations({
      commands,
      keys: deps.keys ?? new DataKeyStore(db, deps.privacyKey),
      privacyKey: deps.privacyKey,
      logger: deps.logger,
    }),
  ];
}

export function createAdminApp(deps: AdminApiDeps): Koa {
  const app = new Koa();
  app.use(accessLog(deps.logger, isPublicRequest));
  app.use(securityHeaders());
  app.use(errorMapper(deps.logger));
  app.use(cleanClientErrors());
  // Before any routing: no route, static file or spelling of a path is reached without the token.
  app.use(
    requireCredential({
      token: deps.adminToken,
      isPublic: isPublicRequest,
      throttle: new AuthThrottle({ ...defaultAuthThrottle, ...deps.authThrottle }),
      metrics: deps.metrics,
    }),
  );
  app.use(healthRoutes(deps.metrics, { mongo: () => deps.mongo.ping() }).routes());

  const documents = new Router({ sensitive: true, strict: true });
  documents.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
  documents.get('/openapi.yaml', (ctx) => {
    ctx.type = 'application/yaml';
    ctx.body = openApiYaml();
  });
  app.use(documents.routes());

  // Paths are matched as documented, so /API/apps or /api/apps/ is a 404, not another door.
  const api = new Router({ prefix: '/api', sensitive: true, strict: true });
  api.use(wechatErrors());
  mountOperations(api, adminOperations(deps));
  app.use(api.routes());
  app.use(api.allowedMethods());
  app.use(dashboard(deps.dashboardDir));
  return app;
}
