import Router from '@koa/router';
import { userKey } from '@wxp/contracts';
import { activeCollections } from '@wxp/mongo';
import { HttpError } from '@wxp/service-runtime';
import type { Db } from 'mongodb';

interface SubscriberView {
  _id: string;
  appId: string;
  state: 'following' | 'unsubscribed';
  openId?: string;
  firstSubscribedAt?: Date;
  lastSubscribedAt?: Date;
  scene?: string;
  sceneId?: number;
  lastActivityAt?: Date;
}

interface CountsView {
  follows: number;
  unfollows: number;
  days: Record<string, { follows: number; unfollows: number }>;
}

export interface SubscriberRouteOptions {
  db: Db;
  privacyKey: string;
  subscribersCollection: string;
  countsCollection: string;
}

export function subscriberRoutes(options: SubscriberRouteOptions): Router {
  // The projection's collections as its read-model pointer names them now (a replay moves them).
  const collections = async () => {
    const names = await activeCollections(options.db, 'subscriber-projection', {
      subscribers: options.subscribersCollection,
      counts: options.countsCollection,
    });
    return {
      subscribers: options.db.collection<SubscriberView>(names.subscribers),
      counts: options.db.collection<CountsView>(names.counts),
    };
  };
  const router = new Router();

  router.get('/apps/:appId/subscribers/:openId', async (ctx) => {
    const { appId = '', openId = '' } = ctx.params;
    const { subscribers } = await collections();
    const found = await subscribers.findOne({ _id: userKey(options.privacyKey, appId, openId), appId });
    if (!found || found.state !== 'following')
      throw new HttpError(404, 'not_found', `${openId} does not follow ${appId}`);
    ctx.body = {
      appId: found.appId,
      openId: found.openId,
      subscribed: true,
      subscribedAt: found.lastSubscribedAt,
      firstSubscribedAt: found.firstSubscribedAt,
      scene: found.scene ?? null,
      sceneId: found.sceneId ?? null,
      lastActivityAt: found.lastActivityAt,
    };
  });

  /** Follows and unfollows the platform has seen, in total and per day (China time), as numbers only. */
  router.get('/apps/:appId/follower-stats', async (ctx) => {
    const { appId = '' } = ctx.params;
    const { counts } = await collections();
    const parts = await counts.find({ appId } as never).toArray();
    const days = new Map<string, { follows: number; unfollows: number }>();
    let follows = 0;
    let unfollows = 0;
    for (const part of parts) {
      follows += part.follows;
      unfollows += part.unfollows;
      for (const [day, figures] of Object.entries(part.days)) {
        const sum = days.get(day) ?? { follows: 0, unfollows: 0 };
        days.set(day, {
          follows: sum.follows + figures.follows,
          unfollows: sum.unfollows + figures.unfollows,
        });
      }
    }
    ctx.body = {
      appId,
      followers: follows - unfollows,
      follows,
      unfollows,
      days: [...days.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, figures]) => ({ day, ...figures })),
    };
  });
  return router;
}
