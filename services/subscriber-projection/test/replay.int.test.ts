import { ReadModels } from '@wxp/contracts';
import { ReplayStalledError, replayReadModel, startProjectionConsumer } from '@wxp/consumer-service';
import { createKafka, type RunningConsumer } from '@wxp/kafka';
import {
  activeCollections,
  connectMongo,
  findSnapshot,
  pointReadModelAt,
  type MongoConnection,
} from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import pino from 'pino';
import { Writable } from 'node:stream';
import { subscriberBehaviour, subscriberProjectionConsumers } from '../src/projection-service';
import { eventually, kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import {
  SealingPublisher,
  canonicalEvent,
  closeSharedKeysDb,
  sharedKeysDb,
  testOpener,
  testPrivacyKey,
  testPseudonymOf,
} from '../../../test/support/privacy';

const logger = pino({ level: 'silent' });
const privacyKey = testPrivacyKey;
const appId = `wxreplay${Date.now().toString(16)}`;
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'replay-test', logger });
const collections = { subscribers: ReadModels.subscribers, counts: ReadModels.followerCounts };
let live: { mongo: MongoConnection; consumer: RunningConsumer } | undefined;
let clean: { mongo: MongoConnection; consumer: RunningConsumer } | undefined;
let publisher: SealingPublisher | undefined;
const stores: MongoConnection[] = [];

async function project(database: string) {
  const mongo = await connectMongo(mongoUrlFor(database), 'replay-test');
  const consumer = await startProjectionConsumer({
    kafka,
    mongo,
    groupId: uniqueName('projection'),
    // What the service's main.ts runs: the model follows the read-model pointer.
    behaviour: subscriberProjectionConsumers(privacyKey)[0]!,
    opener: testOpener(await sharedKeysDb()),
    logger,
    metrics: createMetricsRegistry('replay-test'),
  });
  return { mongo, consumer };
}

async function publishUsers(from: number, to: number) {
  const events = [];
  for (let user = from; user < to; user++) {
    const base = { ToUserName: 'gh_replay', FromUserName: `oReplay${user}`, MsgType: 'event' };
    events.push(
      canonicalEvent(appId, {
        ...base,
        CreateTime: String(1_700_000_000 + user),
        Event: 'subscribe',
        EventKey: `qrscene_${user % 4}`,
      }),
    );
    if (user % 3 === 0)
      events.push(
        canonicalEvent(appId, { ...base, CreateTime: String(1_700_000_100 + user), Event: 'unsubscribe' }),
      );
  }
  await Promise.all(events.map((event) => publisher!.publish(event)));
}

/** A database of its own with a model already switched once, whatever ran before the test. */
async function storeWithModelSwitchedOnce(label: string) {
  const mongo = await connectMongo(mongoUrlFor(uniqueName(label)), 'replay-test');
  stores.push(mongo);
  const current = {
    subscribers: `${collections.subscribers}__replay_earlier`,
    counts: `${collections.counts}__replay_earlier`,
  };
  await pointReadModelAt(mongo.db, 'subscriber-projection', current);
  for (const name of Object.values(current)) await mongo.db.collection(name).insertOne({ kept: true });
  publisher ??= await SealingPublisher.connect(kafka, await sharedKeysDb());
  return { mongo, current };
}

/** What an erasure request does: the user's keys destroyed, then the erasure on the log. */
async function eraseUser(user: number) {
  const subject = testPseudonymOf(appId, `oReplay${user}`);
  await publisher!.keys.eraseUser(subject);
  await publisher!.publish({
    specversion: '1.0',
    id: uniqueName('erased'),
    source: `/wechat/${appId}`,
    type: 'wechat.user.erased',
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'urn:wxp:schema:wechat.user.erased:v1',
    data: { appId, requestedAt: Math.floor(Date.now() / 1000) },
  });
}

const snapshot = async (mongo: MongoConnection) => {
  const names = await activeCollections(mongo.db, 'subscriber-projection', collections);
  return {
    subscribers: await mongo.db.collection(names.subscribers).find({ appId }).sort({ _id: 1 }).toArray(),
    counts: await mongo.db.collection(names.counts).find({ appId }).sort({ _id: 1 }).toArray(),
  };
};

afterAll(async () => {
  for (const run of [live, clean]) {
    await run?.consumer.stop();
    await run?.mongo.close();
  }
  await publisher?.disconnect();
  for (const store of stores) await store.close();
  await closeSharedKeysDb();
});

describe('replay', () => {
  it('rebuilds the read model from offset 0 beside the live consumer, swaps it in, and equals a clean run', async () => {
    publisher = await SealingPublisher.connect(kafka, await sharedKeysDb());
    live = await project(uniqueName('live'));
    await publishUsers(0, 120);
    await eventually(async () => expect((await snapshot(live!.mongo)).subscribers).toHaveLength(120), 20_000);

    // What a replay SIGKILLed an hour ago left behind, and what one started just now already has.
    const abandoned = `${collections.subscribers}__replay_${(Date.now() - 3_600_000).toString(36)}`;
    const starting = `${collections.subscribers}__replay_${Date.now().toString(36)}`;
    for (const name of [abandoned, starting])
      await live.mongo.db.collection(name).insertOne({ half: 'built' });

    let progress = '';
    const sink = Object.assign(
      new Writable({ write: (chunk, _e, done) => ((progress += String(chunk)), done()) }),
      { isTTY: false },
    );
    const replaying = replayReadModel({
      kafka,
      mongo: live.mongo,
      service: 'subscriber-projection',
      collections,
      behaviourFor: (names) => subscriberBehaviour(privacyKey, names),
      opener: testOpener(await sharedKeysDb()),
      logger,
      metrics: createMetricsRegistry('replay'),
      stream: sink as unknown as NodeJS.WriteStream,
    });
    await publishUsers(120, 150); // the live consumer keeps working meanwhile
    await eraseUser(1); // and an erasure arrives: its user's events read as erased from now on
    const result = await replaying;
    expect(progress).toMatch(/replay subscriber-projection .*\d+\/\d+ events/);
    // Readers now find the rebuilt collections; the old ones are gone.
    const active = await activeCollections(live.mongo.db, 'subscriber-projection', collections);
    expect(Object.values(active)).toEqual(result.swapped);
    expect(result.swapped.every((name) => name.includes('__replay_'))).toBe(true);
    expect(result.dropped).toEqual([abandoned]);
    const names = (await live.mongo.db.listCollections().toArray()).map((c) => c.name);
    expect(names).not.toContain(abandoned);
    expect(names).toContain(starting);
    await live.mongo.db.collection(starting).drop();
    expect(names).not.toContain(collections.subscribers);
    expect(names).not.toContain(collections.counts);

    await publishUsers(150, 160); // and after the swap, into the swapped-in collections
    clean = await project(uniqueName('clean'));
    await eventually(
      async () => {
        const expected = await snapshot(clean!.mongo);
        expect(expected.subscribers).toHaveLength(160);
        expect(await snapshot(live!.mongo)).toEqual(expected);
      },
      60_000,
      500,
    );
    // The erased follower is still counted, under their pseudonym, without their openId.
    const { subscribers } = await snapshot(clean.mongo);
    const erased = subscribers.find((d) => d._id === (testPseudonymOf(appId, 'oReplay1') as never));
    expect(erased).toMatchObject({ state: 'following' });
    expect(erased).not.toHaveProperty('openId');
    expect(subscribers.filter((d) => d.state === 'following' && !('openId' in d))).toHaveLength(1);
    expect(JSON.stringify(subscribers)).not.toContain('"oReplay1"');
  }, 120_000);

  it('builds a snapshot that holds no openId: no later unfollow or erasure would reach it', async () => {
    const sink = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false });
    const result = await replayReadModel({
      kafka,
      mongo: live!.mongo,
      service: 'subscriber-projection',
      collections,
      behaviourFor: (names) => subscriberBehaviour(privacyKey, names),
      opener: testOpener(await sharedKeysDb()),
      logger,
      metrics: createMetricsRegistry('replay-snapshot'),
      stream: sink as unknown as NodeJS.WriteStream,
      until: new Date(),
    });
    const built = (await findSnapshot(live!.mongo.db, result.snapshot!))!;
    const held = await live!.mongo.db.collection(built.collections.subscribers!).find({ appId }).toArray();
    const following = (await snapshot(live!.mongo)).subscribers.filter((d) => d.state === 'following');
    // The same followers, counted the same, under their pseudonyms only; the live model has openIds.
    expect(
      held
        .filter((d) => d.state === 'following')
        .map((d) => d._id)
        .sort(),
    ).toEqual(following.map((d) => d._id).sort());
    expect(following.filter((d) => typeof d.openId === 'string').length).toBeGreaterThan(100);
    expect(held.filter((d) => 'openId' in d)).toEqual([]);
    expect(JSON.stringify(held)).not.toContain('oReplay');
    expect(
      await live!.mongo.db.collection(built.collections.counts!).find({ appId }).sort({ _id: 1 }).toArray(),
    ).toEqual((await snapshot(live!.mongo)).counts);
  }, 60_000);

  it('fails when it stops making progress, switches nothing and leaves no collections behind', async () => {
    const { mongo, current } = await storeWithModelSwitchedOnce('stall');
    await publishUsers(1000, 1005); // something to replay, so that the stall is in applying it
    const before = await activeCollections(mongo.db, 'subscriber-projection', collections);
    const sink = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false });
    const stalled = replayReadModel({
      kafka,
      mongo,
      service: 'subscriber-projection',
      collections,
      // A store that stops answering: every batch takes longer than the replay is willing to wait.
      behaviourFor: (names) => ({
        ...subscriberBehaviour(privacyKey, names),
        handler: () => () => new Promise<void>((resolve) => setTimeout(resolve, 8000)),
      }),
      opener: testOpener(await sharedKeysDb()),
      logger,
      metrics: createMetricsRegistry('replay-stalled'),
      stream: sink as unknown as NodeJS.WriteStream,
      stallMs: 3000,
    });
    await expect(stalled).rejects.toThrow(ReplayStalledError);
    await expect(stalled).rejects.toThrow(/no progress for 3 s at 0 of \d+ events.*nothing was switched/);
    expect(before).toEqual(current);
    expect(await activeCollections(mongo.db, 'subscriber-projection', collections)).toEqual(before);
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    for (const name of Object.values(current)) expect(names).toContain(name);
    expect(
      names.filter((n) => n.includes('__replay_') && !(Object.values(before) as string[]).includes(n)),
    ).toEqual([]);
  }, 60_000);

  it('drops the previous model when it fails after its switch, since nothing reads it and no erasure reaches it', async () => {
    const { mongo, current } = await storeWithModelSwitchedOnce('stall-after');
    await publishUsers(2000, 2005);
    // Follows keep arriving, so the replay has more to read once it has switched.
    let next = 2005;
    const arriving = setInterval(() => void publishUsers(next, ++next).catch(() => undefined), 50);
    const sink = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false });
    try {
      const failed = replayReadModel({
        kafka,
        mongo,
        service: 'subscriber-projection',
        collections,
        // Applies batches slowly until the model has switched to its collections, so that follows
        // arriving meanwhile are left for after the switch; then stops answering (and the follows
        // stop, so that no partition makes progress any more).
        behaviourFor: (names) => {
          const behaviour = subscriberBehaviour(privacyKey, names);
          return {
            ...behaviour,
            handler: (db) => {
              const apply = behaviour.handler(db);
              return async (events) => {
                const active = await activeCollections(mongo.db, 'subscriber-projection', collections);
                if (active.subscribers !== names.subscribers) {
                  await apply(events);
                  await new Promise((resolve) => setTimeout(resolve, 500));
                  return;
                }
                clearInterval(arriving);
                await new Promise((resolve) => setTimeout(resolve, 8000));
              };
            },
          };
        },
        opener: testOpener(await sharedKeysDb()),
        logger,
        metrics: createMetricsRegistry('replay-stalled-after'),
        stream: sink as unknown as NodeJS.WriteStream,
        stallMs: 3000,
      });
      await expect(failed).rejects.toThrow(ReplayStalledError);
    } finally {
      clearInterval(arriving);
    }
    const active = await activeCollections(mongo.db, 'subscriber-projection', collections);
    expect(active).not.toEqual(current);
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    for (const name of Object.values(current)) expect(names).not.toContain(name);
    for (const name of Object.values(active)) expect(names).toContain(name);
  }, 60_000);
});
