import { ReadModels, Topics, type ProfileEvent, type WechatEvent } from '@wxp/contracts';
import { pointedBehaviour, type ConsumerBehaviour } from '@wxp/consumer-service';
import type { EventPublisher } from '@wxp/kafka';
import { projectIntoCollection } from '@wxp/mongo';
import { WechatApiError, type WechatApiClient } from '@wxp/wechat-api';
import { profileErased, profileFetchFailed, profileFetched } from './profile-events';
import { profileProjection, type ProfileDocument } from './profile-projection';

const publishProfile = (publisher: EventPublisher, event: ProfileEvent) =>
  publisher.publish({ topic: Topics.profiles, key: `${event.data.appId}:${event.data.openId}`, event });

/**
 * On a follow, asks user/info and writes what it learnt (or WeChat's refusal) to wechat.profiles.v1;
 * on an unfollow, writes that the profile must go. A user's events are handled in order, so their
 * profile events reach the topic in order too. The group reads from the start so that a restart
 * never skips anything, but follows older than `maxAgeSeconds` are not looked up: profiles of
 * existing followers come from the backfill command, not from re-reading the history. Erasures are
 * always written. Rate limits and busy answers retry with backoff inside the client; within a
 * partition nothing is fetched in parallel (partitions' batches are applied side by side).
 */
export function enricherBehaviour(
  api: WechatApiClient,
  publisher: EventPublisher,
  maxAgeSeconds: number,
): ConsumerBehaviour {
  return {
    batchesTogether: false,
    async prepare() {},
    handler() {
      return async (events) => {
        for (const { event: raw } of events) {
          const event = raw as WechatEvent;
          const { appId, openId } = event.data;
          if (event.type === 'wechat.user.unsubscribed') {
            await publishProfile(publisher, profileErased(appId, openId, event.id, event.data.createTime));
          } else if (
            event.type === 'wechat.user.subscribed' &&
            Date.now() / 1000 - event.data.createTime <= maxAgeSeconds
          ) {
            let profile: ProfileEvent;
            try {
              profile = profileFetched(appId, await api.getUserInfo(appId, openId), event.id);
            } catch (error) {
              if (!(error instanceof WechatApiError)) throw error;
              profile = profileFetchFailed(appId, openId, event.id, error.errcode, error.errmsg);
            }
            await publishProfile(publisher, profile);
          }
        }
      };
    },
  };
}

/** The profiles read model, from wechat.profiles.v1 alone. */
export function profilesBehaviour(
  privacyKey: string,
  names: { profiles: string } = { profiles: ReadModels.profiles },
): ConsumerBehaviour {
  return {
    topic: Topics.profiles,
    groupSuffix: '-profiles',
    async prepare(db) {
      await db.collection(names.profiles).createIndex({ appId: 1, state: 1 });
    },
    handler(db) {
      const profiles = db.collection<ProfileDocument>(names.profiles);
      const projection = profileProjection(privacyKey);
      return async (events) => {
        await projectIntoCollection(
          profiles,
          projection,
          events.map((e) => ({ position: e.offset, event: e.event as ProfileEvent })),
        );
      };
    },
  };
}

/**
 * The consumers the service runs, as main.ts starts them: the profiles read model follows the
 * service's read-model pointer, so a replay's switch reaches the live consumer.
 */
export function profileEnricherConsumers(
  privacyKey: string,
  api: WechatApiClient,
  publisher: EventPublisher,
  maxAgeSeconds: number,
): ConsumerBehaviour[] {
  return [
    enricherBehaviour(api, publisher, maxAgeSeconds),
    pointedBehaviour('profile-enricher', { profiles: ReadModels.profiles }, (names) =>
      profilesBehaviour(privacyKey, names),
    ),
  ];
}

export { publishProfile };
