import { Topics, type ProfileEvent, type WechatEvent } from '@wxp/contracts';
import { toCanonicalEvent, partitionKeyOf } from '@wxp/gateway/dist/canonical-event';
import { EventPublisher, createKafka, type OutgoingEvent } from '@wxp/kafka';
import { profileErased, profileFetched } from '@wxp/profile-enricher/dist/profile-events';
import pino from 'pino';

const SCENES = 20;

/** A small deterministic generator, so two runs at one size write the same history. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A realistic history for one account: users follow (half of them through one of 20 campaign
 * codes), scan codes and click menus while following, and some unfollow and come back. Each user's
 * events are in time order, as WeChat sends them; the events are made by the gateway's own mapping.
 */
export function* accountHistory(appId: string, users: number, events: number): Generator<WechatEvent> {
  const next = random(users * 31 + events);
  const following = new Uint8Array(users);
  const start = 1_700_000_000;
  for (let i = 0; i < events; i++) {
    const user = Math.floor(next() * users);
    const base = {
      ToUserName: 'gh_bench',
      FromUserName: `oReplay${user}`,
      CreateTime: String(start + Math.floor(i / 20)),
      MsgType: 'event',
    };
    const roll = next();
    let fields: Record<string, string>;
    if (!following[user]) {
      following[user] = 1;
      fields =
        roll < 0.5
          ? { ...base, Event: 'subscribe', EventKey: `qrscene_${1 + Math.floor(next() * SCENES)}` }
          : { ...base, Event: 'subscribe' };
    } else if (roll < 0.5) {
      fields = { ...base, Event: 'CLICK', EventKey: `MENU_${Math.floor(next() * 6)}` };
    } else if (roll < 0.85) {
      fields = { ...base, Event: 'SCAN', EventKey: String(1 + Math.floor(next() * SCENES)) };
    } else {
      following[user] = 0;
      fields = { ...base, Event: 'unsubscribe' };
    }
    yield toCanonicalEvent(appId, fields);
  }
}

/** The history as wechat.events.v1 takes it: each user's events under their partition key. */
export function* onEventsTopic(history: Iterable<WechatEvent>): Generator<OutgoingEvent> {
  for (const event of history) yield { topic: Topics.events, key: partitionKeyOf(event), event };
}

/**
 * What the profile enricher writes to wechat.profiles.v1 for the same history: a profile for every
 * follow (as user/info would answer it, the code's scene included) and an erasure for every
 * unfollow, made by the enricher's own event builders and keyed as it keys them.
 */
export function* profilesOf(history: Iterable<WechatEvent>): Generator<OutgoingEvent> {
  for (const event of history) {
    const { appId, openId, createTime } = event.data;
    let profile: ProfileEvent;
    if (event.type === 'wechat.user.subscribed') {
      profile = profileFetched(
        appId,
        {
          subscribe: 1,
          openid: openId,
          language: 'zh_CN',
          subscribe_time: createTime,
          subscribe_scene: event.data.sceneId === undefined ? 'ADD_SCENE_SEARCH' : 'ADD_SCENE_QR_CODE',
          ...(event.data.sceneId === undefined ? {} : { qr_scene: event.data.sceneId }),
          tagid_list: [],
        },
        event.id,
      );
    } else if (event.type === 'wechat.user.unsubscribed') {
      profile = profileErased(appId, openId, event.id, createTime);
    } else continue;
    yield { topic: Topics.profiles, key: `${appId}:${openId}`, event: profile };
  }
}

/** Writes a history through the platform's publisher (idempotent, acks=all). */
export async function publishHistory(
  brokers: string[],
  history: Iterable<OutgoingEvent>,
  onProgress: (published: number) => void,
): Promise<number> {
  const logger = pino({ level: 'silent' });
  const publisher = await EventPublisher.connect(
    createKafka({ brokers, clientId: 'bench-history', logger }),
    {
      maxQueuedEvents: 20_000,
    },
  );
  let published = 0;
  try {
    let chunk: Promise<void>[] = [];
    for (const item of history) {
      chunk.push(publisher.publish(item));
      if (chunk.length === 10_000) {
        await Promise.all(chunk);
        published += chunk.length;
        chunk = [];
        onProgress(published);
      }
    }
    await Promise.all(chunk);
    published += chunk.length;
  } finally {
    await publisher.disconnect();
  }
  return published;
}

/**
 * Writes the history at a steady rate, in small acknowledged chunks, as live traffic would arrive:
 * consumers reading it meanwhile always have a batch in hand.
 */
export async function publishPaced(
  brokers: string[],
  history: Iterable<WechatEvent>,
  perSecond: number,
): Promise<number> {
  const logger = pino({ level: 'silent' });
  const publisher = await EventPublisher.connect(createKafka({ brokers, clientId: 'bench-paced', logger }));
  const chunkSize = Math.max(1, Math.round(perSecond / 4));
  const started = performance.now();
  let published = 0;
  try {
    let chunk: Promise<void>[] = [];
    for (const event of history) {
      chunk.push(publisher.publish({ topic: Topics.events, key: partitionKeyOf(event), event }));
      if (chunk.length === chunkSize) {
        await Promise.all(chunk);
        published += chunk.length;
        chunk = [];
        const due = started + (published / perSecond) * 1000;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      }
    }
    await Promise.all(chunk);
    published += chunk.length;
  } finally {
    await publisher.disconnect();
  }
  return published;
}
