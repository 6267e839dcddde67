import {
  ProfileTagged,
  ProfileTaggingFailed,
  derivedEventId,
  sourceOfApp,
  type EventDefinition,
  type ProfileEvent,
} from '@wxp/contracts';
import { isDuplicateKeyError } from '@wxp/mongo';
import type { Logger } from '@wxp/service-runtime';
import { ErrorCodes, WechatApiError, isTokenError, isTransient, type WechatApiClient } from '@wxp/wechat-api';
import type { Db } from 'mongodb';
import { CAMPAIGN_TAGS_COLLECTION, campaignTagId, type CampaignTagDocument } from './campaign-tags';

export const TAGGINGS_COLLECTION = 'profile_taggings';

/** One per follow that was tagged or refused: a redelivered follow finds it and is not tagged again. */
interface TaggingDone {
  _id: string;
  appId: string;
  outcome: 'tagged' | 'refused';
  at: Date;
}

export type TaggingApi = Pick<WechatApiClient, 'findOrCreateTag' | 'tagUsers'>;

/** The follow, as opened: whom to tag and through which code they came. */
export interface TaggedFollow {
  id: string;
  pseudonym: string;
  appId: string;
  openId: string;
  scene: string;
}

function taggingEvent(
  definition: EventDefinition,
  follow: TaggedFollow,
  data: Record<string, unknown>,
): ProfileEvent {
  return {
    specversion: '1.0',
    id: derivedEventId(definition.type, follow.id),
    source: sourceOfApp(follow.appId),
    type: definition.type,
    subject: follow.pseudonym,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: definition.dataschema,
    causationid: follow.id,
    data: {
      appId: follow.appId,
      scene: follow.scene,
      causedBy: follow.id,
      at: Math.floor(Date.now() / 1000),
      ...data,
    },
  } as ProfileEvent;
}

/** WeChat will not do it, whenever asked: recorded, not retried. Busy, quotas and tokens are retried. */
const isRefusal = (error: unknown): error is WechatApiError =>
  error instanceof WechatApiError && !isTransient(error) && !isTokenError(error);

/**
 * Gives a follower the tag of the campaign whose code they came through (tags/members/batchtagging)
 * and returns what happened as a profile event, or null when the campaign names no tag or the follow
 * was already answered. Tag ids are kept per account and name once found or made.
 */
export function followerTagging(db: Db, api: TaggingApi, logger: Logger) {
  const tagIds = new Map<string, number>();
  const campaigns = () => db.collection<CampaignTagDocument>(CAMPAIGN_TAGS_COLLECTION);
  const done = () => db.collection<TaggingDone>(TAGGINGS_COLLECTION);

  const tagIdOf = async (appId: string, name: string, fresh: boolean): Promise<number> => {
    const cacheKey = `${appId}\n${name}`;
    const cached = fresh ? undefined : tagIds.get(cacheKey);
    if (cached !== undefined) return cached;
    const { id } = await api.findOrCreateTag(appId, name);
    tagIds.set(cacheKey, id);
    return id;
  };

  const tag = async (follow: TaggedFollow, name: string): Promise<number> => {
    const id = await tagIdOf(follow.appId, name, false);
    try {
      await api.tagUsers(follow.appId, id, [follow.openId]);
      return id;
    } catch (error) {
      // The tag was deleted in WeChat since its id was learnt: find or make it again, once.
      if (!(error instanceof WechatApiError && error.errcode === ErrorCodes.invalidTag)) throw error;
      tagIds.delete(`${follow.appId}\n${name}`);
      const again = await tagIdOf(follow.appId, name, true);
      await api.tagUsers(follow.appId, again, [follow.openId]);
      return again;
    }
  };

  return async (follow: TaggedFollow): Promise<{ event: ProfileEvent; record(): Promise<void> } | null> => {
    const campaign = await campaigns().findOne({ _id: campaignTagId(follow.appId, follow.scene) });
    const tagName = campaign?.tag;
    if (!tagName) return null;
    if (await done().findOne({ _id: follow.id })) return null;
    let event: ProfileEvent;
    try {
      const tagId = await tag(follow, tagName);
      event = taggingEvent(ProfileTagged, follow, { tagName, tagId });
    } catch (error) {
      if (!isRefusal(error)) throw error;
      logger.warn(
        { eventId: follow.id, pseudonym: follow.pseudonym, errcode: error.errcode, api: error.api },
        'tagging refused by WeChat',
      );
      event = taggingEvent(ProfileTaggingFailed, follow, { tagName, errcode: error.errcode });
    }
    const outcome = event.type === 'wechat.profile.tagged' ? 'tagged' : 'refused';
    return {
      event,
      // After the event is written: a crash between the two writes the same event (same id) again.
      async record() {
        try {
          await done().insertOne({ _id: follow.id, appId: follow.appId, outcome, at: new Date() });
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      },
    };
  };
}
