import { Topics, type CloudEvent, type ProfileEvent, type PushEvent } from '@wxp/contracts';
import { toCanonicalEvent, partitionKeyOf } from '@wxp/gateway/dist/canonical-event';
import { EventPublisher, createKafka, type OutgoingEvent } from '@wxp/kafka';
import { DATA_KEYS_COLLECTION, DataKeyStore, pseudonymOf, sealEvent, type DataKey } from '@wxp/privacy';
import { profileErased, profileFetched } from '@wxp/profile-enricher/dist/profile-events';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { BENCH_PRIVACY_KEY } from './push-pipeline';

const pseudonym = (appId: string, openId: string) => pseudonymOf(BENCH_PRIVACY_KEY, appId, openId);

/**
 * Seals history as the gateway does, with data keys in the store the replaying services read. A
 * user keeps one key for the whole history (the gateway makes a fresh one per follow): the cost
 * measured is the readers', and a million key inserts would only slow the writing down.
 */
export class HistorySealer {
  private readonly mirrored = new Set<string>();
  /** Each user's key, made on their first event here: a new user needs no store read first. */
  private readonly keyOfUser = new Map<string, Promise<DataKey>>();

  private constructor(
    private readonly clients: MongoClient[],
    private readonly keys: DataKeyStore,
  ) {}

  /** Keys go to the first store, and are copied to the others, whose readers open the same events. */
  static async connect(mongoUrl: string, ...mirrorUrls: string[]): Promise<HistorySealer> {
    const clients = await Promise.all([mongoUrl, ...mirrorUrls].map((url) => new MongoClient(url).connect()));
    const keys = new DataKeyStore(clients[0]!.db(), BENCH_PRIVACY_KEY, {
      cacheSeconds: 24 * 3600,
      maxCached: 2_000_000,
    });
    await keys.prepare();
    return new HistorySealer(clients, keys);
  }

  async seal(item: OutgoingEvent): Promise<OutgoingEvent> {
    const event = item.event as CloudEvent<string, { appId: string }>;
    let making = this.keyOfUser.get(event.subject!);
    if (!making) {
      making = this.keys.keyForWriting(event.data.appId, event.subject!, { fresh: true });
      this.keyOfUser.set(event.subject!, making);
    }
    const key = await making;
    if (this.clients.length > 1 && !this.mirrored.has(key.id)) {
      this.mirrored.add(key.id);
      const [primary, ...mirrors] = this.clients.map((c) =>
        c.db().collection<{ _id: string }>(DATA_KEYS_COLLECTION),
      );
      const stored = await primary!.findOne({ _id: key.id });
      if (stored)
        await Promise.all(mirrors.map((m) => m.replaceOne({ _id: key.id }, stored, { upsert: true })));
    }
    return { ...item, event: sealEvent(event, key) };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

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
export function* accountHistory(appId: string, users: number, events: number): Generator<PushEvent> {
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
    yield toCanonicalEvent(appId, fields, pseudonym);
  }
}

/** The history as the events topic takes it: each user's events under their partition key. */
export function* onEventsTopic(history: Iterable<PushEvent>): Generator<OutgoingEvent> {
  for (const event of history) yield { topic: Topics.events, key: partitionKeyOf(event), event };
}

/**
 * What the profile enricher writes to the profiles topic for the same history: a profile for every
 * follow (as user/info would answer it, the code's scene included) and an erasure for every
 * unfollow, made by the enricher's own event builders and keyed as it keys them.
 */
export function* profilesOf(history: Iterable<PushEvent>): Generator<OutgoingEvent> {
  for (const event of history) {
    const { appId, openId, createTime } = event.data;
    const user = pseudonym(appId, openId);
    let profile: ProfileEvent;
    if (event.type === 'wechat.user.subscribed') {
      profile = profileFetched(
        appId,
        user,
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
      profile = profileErased(appId, user, openId, event.id, createTime);
    } else continue;
    yield { topic: Topics.profiles, key: user, event: profile };
  }
}

/** Writes a history through the platform's publisher (idempotent, acks=all), sealed. */
export async function publishHistory(
  brokers: string[],
  history: Iterable<OutgoingEvent>,
  sealer: HistorySealer,
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
    let chunk: OutgoingEvent[] = [];
    const publishChunk = async () => {
      // Sealed side by side, so that new users' keys are stored a group at a time; published in
      // the history's order, which keeps each user's.
      const sealed = await Promise.all(chunk.map((item) => sealer.seal(item)));
      await Promise.all(sealed.map((item) => publisher.publish(item)));
      published += chunk.length;
      chunk = [];
      onProgress(published);
    };
    for (const item of history) {
      chunk.push(item);
      if (chunk.length === 10_000) await publishChunk();
    }
    await publishChunk();
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
  history: Iterable<PushEvent>,
  sealer: HistorySealer,
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
      chunk.push(
        publisher.publish(await sealer.seal({ topic: Topics.events, key: partitionKeyOf(event), event })),
      );
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
