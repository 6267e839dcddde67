import { ReadModels } from '@wxp/contracts';
import Router from '@koa/router';
import type { MongoConnection } from '@wxp/mongo';
import { errorMapper, healthRoutes, type Logger, type Registry } from '@wxp/service-runtime';
import Koa from 'koa';
import { bearerAuth } from './bearer-auth';
import type { OutgoingEvent } from '@wxp/kafka';
import { campaignRoutes } from './campaign-routes';
import { replyRoutes } from './reply-routes';
import { subscriberRoutes } from './subscriber-routes';

export interface AdminApiDeps {
  mongo: MongoConnection;
  adminToken: string;
  privacyKey: string;
  /** Writes a command's event to Kafka; resolves once the broker acknowledged it. */
  publish(event: OutgoingEvent): Promise<void>;
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
    subscribersCollection: ReadModels.subscribers,
    countsCollection: ReadModels.followerCounts,
  });
  api.use(subscribers.routes(), subscribers.allowedMethods());
  const campaigns = campaignRoutes(deps.mongo.db, ReadModels.campaignCounts);
  api.use(campaigns.routes(), campaigns.allowedMethods());
  const replies = replyRoutes(deps.mongo.db, deps.publish, ReadModels.replyRules);
  api.use(replies.routes(), replies.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}
