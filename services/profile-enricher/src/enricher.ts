import { ReadModels, Topics, type ProfileEvent, type WechatEvent } from '@wxp/contracts';
import { pointedBehaviour, type ConsumerBehaviour } from '@wxp/consumer-service';
import type { EventPublisher } from '@wxp/kafka';
import { projectIntoCollection } from '@wxp/mongo';
import { sealEvent, sealEventAsErased, type DataKey, type DataKeyStore } from '@wxp/privacy';
import type { Logger } from '@wxp/service-runtime';
import { WechatApiError, isTokenError, isTransient, type WechatApiClient } from '@wxp/wechat-api';
import { campaignTagsBehaviour } from './campaign-tags';
import { erasureBehaviour } from './erasure';
import { followerTagging, type TaggingApi } from './follower-tagging';
import { profileErased, profileFetchFailed, profileFetched } from './profile-events';
import { profileProjection, type ProfileDocument } from './profile-projection';

/**
 * Writes a profile event to wechat.profiles.v2 under the user's pseudonym: sealed with `key`, or,
 * when the user's key is gone, with every personal field marked erased.
 */
const publishProfile = (publisher: EventPublisher, event: ProfileEvent, key: DataKey | null) =>
  publisher.publish({
    topic: Topics.profiles,
    key: event.subject!,
    event: key ? sealEvent(event, key) : sealEventAsErased(event),
  });

/** Events whose answer on the profiles topic is sealed with their own data key. */
const answered = new Set(['wechat.user.subscribed', 'wechat.user.unsubscribed']);

/** The data keys the batch's events are sealed with (null: destroyed): one store read at most. */
async function keysOfBatch(
  keys: DataKeyStore,
  events: readonly WechatEvent[],
): Promise<(event: WechatEvent) => DataKey | null> {
  const ids = events.flatMap((e) => (e.datakeyid && answered.has(e.type) ? [e.datakeyid] : []));
  const found = ids.length > 0 ? await keys.keysByIds(ids) : new Map<string, Buffer | null>();
  return (event) => {
    const key = event.datakeyid ? found.get(event.datakeyid) : undefined;
    return key ? { id: event.datakeyid!, key } : null;
  };
}

export interface EnricherOptions {
  api: Pick<WechatApiClient, 'getUserInfo'> & TaggingApi;
  publisher: EventPublisher;
  /** Users' data keys: profile events are sealed with the key of the event they answer. */
  keys: DataKeyStore;
  logger: Logger;
  maxAgeSeconds: number;
}

/**
 * On a follow, asks user/info and writes what it learnt (or WeChat's refusal) to wechat.profiles.v2,
 * sealed with the data key of the follow it answers; on an unfollow or an erasure request, writes
 * that the profile must go. A user's events are handled in order, so their profile events reach the
 * topic in order too. The group reads from the start so that a restart never skips anything, but
 * follows older than `maxAgeSeconds` are not looked up: profiles of existing followers come from the
 * backfill command, not from re-reading the history. Follows of users whose key is gone are let go
 * (nobody to ask about); erasures are always written. Rate limits and busy answers retry with backoff
 * inside the client; within a partition nothing is fetched in parallel.
 */
export function enricherBehaviour({
  api,
  publisher,
  keys,
  logger,
  maxAgeSeconds,
}: EnricherOptions): ConsumerBehaviour {
  return {
    batchesTogether: false,
    async prepare() {},
    handler(db) {
      const tagFollower = followerTagging(db, api, logger);
      return async (events) => {
        const keyOf = await keysOfBatch(
          keys,
          events.map((e) => e.event as WechatEvent),
        );
        for (const { event: raw, erased } of events) {
          const event = raw as WechatEvent;
          const pseudonym = event.subject!;
          const { appId } = event.data;
          if (event.type === 'wechat.user.erased') {
            await publishProfile(
              publisher,
              profileErased(appId, pseudonym, '', event.id, event.data.requestedAt),
              null,
            );
          } else if (event.type === 'wechat.user.unsubscribed') {
            const { openId, createTime } = event.data;
            const key = erased ? null : keyOf(event);
            await publishProfile(
              publisher,
              profileErased(appId, pseudonym, openId, event.id, createTime),
              key,
            );
          } else if (
            event.type === 'wechat.user.subscribed' &&
            Date.now() / 1000 - event.data.createTime <= maxAgeSeconds
          ) {
            if (erased) {
              logger.debug({ eventId: event.id }, 'no profile look-up: the user is erased');
              continue;
            }
            const { openId } = event.data;
            let profile: ProfileEvent;
            try {
              profile = profileFetched(appId, pseudonym, await api.getUserInfo(appId, openId), event.id);
            } catch (error) {
              // Busy, quotas and a refused access_token pass: the batch is tried again, then the
              // event goes to the dead-letter topic. Only WeChat's answer for good is recorded.
              if (!(error instanceof WechatApiError)) throw error;
              const { errcode, errmsg } = error;
              if (isTransient(error) || isTokenError(error)) throw error;
              profile = profileFetchFailed(appId, pseudonym, openId, event.id, errcode, errmsg);
            }
            await publishProfile(publisher, profile, keyOf(event));
            if (event.data.scene !== undefined) {
              const tagging = await tagFollower({
                id: event.id,
                pseudonym,
                appId,
                openId,
                scene: event.data.scene,
              });
              if (tagging) {
                await publishProfile(publisher, tagging.event, null);
                await tagging.record();
              }
            }
          }
        }
      };
    },
  };
}

/** The profiles read model, from wechat.profiles.v2 alone. */
export function profilesBehaviour(
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
      const projection = profileProjection();
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
 * The consumers the service runs, as main.ts starts them: the enricher, the erasure of data keys
 * (`graceSecondsOf` an account), and the profiles read model, which follows the service's
 * read-model pointer so that a replay's switch reaches the live consumer.
 */
export function profileEnricherConsumers(
  options: EnricherOptions & { graceSecondsOf: (appId: string) => number },
): ConsumerBehaviour[] {
  return [
    campaignTagsBehaviour(),
    enricherBehaviour(options),
    erasureBehaviour(options.keys, options.graceSecondsOf, options.logger),
    pointedBehaviour('profile-enricher', { profiles: ReadModels.profiles }, (names) =>
      profilesBehaviour(names),
    ),
  ];
}

export { publishProfile };
