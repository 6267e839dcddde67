import { Type } from '@sinclair/typebox';
import type { CloudEvent } from './cloud-event';
import { defineEvent, type DataOf } from './event-definition';
import { Topics } from './topics';

const who = {
  appId: Type.String({ minLength: 1 }),
  openId: Type.String({ minLength: 1 }),
  /** The events-topic event this result answers. */
  causedBy: Type.String(),
  at: Type.Integer({ minimum: 0, description: 'Seconds since the epoch' }),
};

export const ProfileFetched = defineEvent(
  'wechat.profile.fetched',
  2,
  Topics.profiles,
  Type.Object({
    ...who,
    subscribe: Type.Integer({ minimum: 0, maximum: 1 }),
    unionId: Type.Optional(Type.String()),
    language: Type.Optional(Type.String()),
    subscribeTime: Type.Optional(Type.Integer()),
    subscribeScene: Type.Optional(Type.String()),
    qrScene: Type.Optional(Type.Integer({ minimum: 0 })),
    qrSceneStr: Type.Optional(Type.String()),
    tags: Type.Array(Type.Integer()),
    remark: Type.Optional(Type.String()),
  }),
);

export const ProfileFetchFailed = defineEvent(
  'wechat.profile.fetch_failed',
  2,
  Topics.profiles,
  Type.Object({ ...who, errcode: Type.Integer(), errmsg: Type.String() }),
);

/**
 * The user unfollowed: whatever is known about them must go. Written to this topic by the enricher,
 * in order after their other profile events, so that the profile read model needs no other topic.
 */
export const ProfileErased = defineEvent(
  'wechat.profile.erased',
  2,
  Topics.profiles,
  Type.Object({
    appId: Type.String({ minLength: 1 }),
    openId: Type.String({ minLength: 1 }),
    causedBy: Type.String(),
    at: Type.Integer({ minimum: 0 }),
  }),
);

/**
 * What a campaign's tag did for a follow through its code. Nothing personal: the user is the
 * event's subject (their pseudonym), never their openId.
 */
const tagging = {
  appId: Type.String({ minLength: 1 }),
  tagName: Type.String({ minLength: 1, maxLength: 30 }),
  scene: Type.String({ minLength: 1, maxLength: 64, description: 'The QR scene of the campaign' }),
  /** The follow this answers. */
  causedBy: Type.String(),
  at: Type.Integer({ minimum: 0, description: 'Seconds since the epoch' }),
};

/** A follower who came in through a tagged campaign's code was given its tag (tags/members/batchtagging). */
export const ProfileTagged = defineEvent(
  'wechat.profile.tagged',
  1,
  Topics.profiles,
  Type.Object({ ...tagging, tagId: Type.Integer() }),
);

/** WeChat refused to tag the follower (e.g. 45059: the user has too many tags); not tried again. */
export const ProfileTaggingFailed = defineEvent(
  'wechat.profile.tagging_failed',
  1,
  Topics.profiles,
  Type.Object({ ...tagging, errcode: Type.Integer() }),
);

export const profileEventDefinitions = [
  ProfileFetched,
  ProfileFetchFailed,
  ProfileErased,
  ProfileTagged,
  ProfileTaggingFailed,
] as const;

type Definitions = (typeof profileEventDefinitions)[number];
export type ProfileEvent = {
  [D in Definitions as D['type']]: CloudEvent<D['type'], DataOf<D>>;
}[Definitions['type']];
