import { userKey } from '@wxp/contracts';
import { activeCollections } from '@wxp/mongo';
import { HttpError } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import { followerStats, getSubscriber, listSubscribers } from './api-operations';
import { operation, type BoundOperation } from './operation';

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

/** An erased follower is listed (still counted) without an openId: nothing personal is kept of them. */
const asFollower = (found: SubscriberView) => ({
  appId: found.appId,
  ...(typeof found.openId === 'string' ? { openId: found.openId } : {}),
  subscribed: true,
  subscribedAt: found.lastSubscribedAt,
  firstSubscribedAt: found.firstSubscribedAt,
  scene: found.scene ?? null,
  sceneId: found.sceneId ?? null,
  lastActivityAt: found.lastActivityAt,
});

export function subscriberOperations(options: SubscriberRouteOptions): BoundOperation[] {
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

  const list = operation(listSubscribers, async (ctx, { params, query }) => {
    const { appId } = params;
    const { subscribers } = await collections();
    const filter = {
      appId,
      state: 'following' as const,
      ...(query.scene === undefined ? {} : { scene: query.scene }),
    };
    const [total, page] = await Promise.all([
      subscribers.countDocuments(filter),
      subscribers
        .find(filter)
        .sort({ lastSubscribedAt: -1, _id: 1 })
        .skip((query.page - 1) * query.pageSize)
        .limit(query.pageSize)
        .toArray(),
    ]);
    ctx.body = {
      appId,
      total,
      page: query.page,
      pageSize: query.pageSize,
      subscribers: page.map(asFollower),
    };
  });

  const one = operation(getSubscriber, async (ctx, { params }) => {
    const { appId, openId } = params;
    const { subscribers } = await collections();
    const found = await subscribers.findOne({ _id: userKey(options.privacyKey, appId, openId), appId });
    // An erased follower is not shown by openId: the answer would tie the openId to what is kept.
    if (found?.state !== 'following' || typeof found.openId !== 'string')
      throw new HttpError(404, 'not_found', 'the user does not follow the account');
    ctx.body = asFollower(found);
  });

  /** Follows and unfollows the platform has seen, in total and per day (China time), as numbers only. */
  const stats = operation(followerStats, async (ctx, { params }) => {
    const { appId } = params;
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

  return [list, one, stats];
}
