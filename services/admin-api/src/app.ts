import Router from '@koa/router';
import type { MongoConnection } from '@wxp/mongo';
import { errorMapper, healthRoutes, type Logger, type Registry } from '@wxp/service-runtime';
import Koa from 'koa';
import { bearerAuth } from './bearer-auth';
import { campaignRoutes } from './campaign-routes';
import { subscriberRoutes } from './subscriber-routes';

export interface AdminApiDeps {
  mongo: MongoConnection;
  adminToken: string;
  privacyKey: string;
  subscribersCollection: string;
  countsCollection: string;
  campaignCountsCollection: string;
  logger: Logger;
  metrics: Registry;
}

export function createAdminApp(deps: AdminApiDeps): Koa {
  const app = new Koa();
  app.use(errorMapper(deps.logger));
  app.use(healthRoutes(deps.metrics, { mongo: () => deps.mongo.ping() }).routes());

  const api = new Router({ prefix: '/api' });
  api.use(bearerAuth(deps.adminToken));
  const subscribers = subscriberRoutes({
    db: deps.mongo.db,
    privacyKey: deps.privacyKey,
    subscribersCollection: deps.subscribersCollection,
    countsCollection: deps.countsCollection,
  });
  api.use(subscribers.routes(), subscribers.allowedMethods());
  const campaigns = campaignRoutes(deps.mongo.db, deps.campaignCountsCollection);
  api.use(campaigns.routes(), campaigns.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}
