import Router from '@koa/router';
import { HttpError } from '@wxp/service-runtime';
import type { Collection } from 'mongodb';

interface SubscriberView {
  _id: string;
  appId: string;
  openId: string;
  subscribed: boolean;
  subscribedAt: Date;
  scene?: string;
  sceneId?: number;
  lastActivityAt: Date;
}

export function subscriberRoutes(subscribers: Collection<SubscriberView>): Router {
  const router = new Router();
  router.get('/apps/:appId/subscribers/:openId', async (ctx) => {
    const { appId = '', openId = '' } = ctx.params;
    const found = await subscribers.findOne({ _id: `${appId}:${openId}` });
    if (!found) throw new HttpError(404, 'not_found', `${openId} does not follow ${appId}`);
    ctx.body = {
      appId: found.appId,
      openId: found.openId,
      subscribed: found.subscribed,
      subscribedAt: found.subscribedAt,
      scene: found.scene ?? null,
      sceneId: found.sceneId ?? null,
      lastActivityAt: found.lastActivityAt,
    };
  });
  return router;
}
