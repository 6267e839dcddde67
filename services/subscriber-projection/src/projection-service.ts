import { ReadModels, type WechatEvent } from '@wxp/contracts';
import { pointedBehaviour, type ConsumerBehaviour } from '@wxp/consumer-service';
import { projectWithDerived } from '@wxp/mongo';
import {
  followerChangeOf,
  followerCountsProjection,
  subscriberProjection,
  type FollowerCountsDocument,
  type SubscriberDocument,
} from './subscriber-projection';

export type SubscriberCollections = {
  subscribers: string;
  counts: string;
};

export const subscriberCollections: SubscriberCollections = {
  subscribers: ReadModels.subscribers,
  counts: ReadModels.followerCounts,
};

/** Users, and the follower counts derived from their transitions (one counts document per partition). */
export function subscriberBehaviour(privacyKey: string, names = subscriberCollections): ConsumerBehaviour {
  return {
    async prepare(db) {
      // The follower list's two queries (all of an account's followers, or one scene's), in the
      // order the list is read: a page is read from the index, not sorted from every follower.
      await db
        .collection(names.subscribers)
        .createIndex({ appId: 1, state: 1, lastSubscribedAt: -1, _id: 1 });
      await db
        .collection(names.subscribers)
        .createIndex({ appId: 1, state: 1, scene: 1, lastSubscribedAt: -1, _id: 1 });
      await db.collection(names.counts).createIndex({ appId: 1 });
    },
    handler(db) {
      const spec = {
        primary: {
          collection: db.collection<SubscriberDocument>(names.subscribers),
          projection: subscriberProjection(),
        },
        derived: {
          collection: db.collection<FollowerCountsDocument>(names.counts),
          projection: followerCountsProjection,
          changeOf: followerChangeOf,
        },
      };
      return (events) =>
        projectWithDerived(
          spec,
          events.map((e) => ({ position: e.offset, partition: e.partition, event: e.event as WechatEvent })),
        );
    },
  };
}

/**
 * The consumers the service runs, as main.ts starts them: the read model follows the service's
 * read-model pointer, so a replay's switch reaches the live consumer. Tests start these too.
 */
export function subscriberProjectionConsumers(privacyKey: string): ConsumerBehaviour[] {
  return [
    pointedBehaviour('subscriber-projection', subscriberCollections, (names) =>
      subscriberBehaviour(privacyKey, names),
    ),
  ];
}
