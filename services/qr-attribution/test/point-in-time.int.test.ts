import { replayReadModel } from '@wxp/consumer-service';
import { createKafka } from '@wxp/kafka';
import { activeCollections, connectMongo, findSnapshot, type MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import pino from 'pino';
import { Writable } from 'node:stream';
import * as ops from '../../admin-api/src/api-operations';
import { attributionBehaviour, attributionCollections } from '../src/attribution-service';
import { kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { documented } from '../../../test/support/openapi-conformance';
import { startAdmin, type RunningAdmin } from '../../../test/support/running-admin';
import { testAccount } from '../../../test/support/wechat-push';
import {
  SealingPublisher,
  canonicalEvent,
  closeSharedKeysDb,
  sharedKeysDb,
  testOpener,
} from '../../../test/support/privacy';

const logger = pino({ level: 'silent' });
// The progress bar is the command's; the test's output stays its own.
const quiet = Object.assign(new Writable({ write: (_chunk, _encoding, done) => done() }), {
  isTTY: false,
}) as unknown as NodeJS.WriteStream;
const account = testAccount();
const appId = account.appId;
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'point-in-time-test', logger });
const secrets = { adminToken: 'point-in-time-admin-token', privacyKey: 'point-in-time-privacy-key' };
let mongo: MongoConnection;
let publisher: SealingPublisher;
let admin: RunningAdmin;
let opener: ReturnType<typeof testOpener>;

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('point-in-time')), 'point-in-time-test');
  publisher = await SealingPublisher.connect(kafka, await sharedKeysDb());
  opener = testOpener(await sharedKeysDb());
  admin = await startAdmin(mongo, secrets, { accounts: [account] });
});

afterAll(async () => {
  await admin?.close();
  await publisher?.disconnect();
  await mongo?.close();
  await closeSharedKeysDb();
});

const user = (n: number) => `oPointInTime${n}`;
const push = (n: number, at: number, fields: Record<string, string>) =>
  canonicalEvent(appId, {
    ToUserName: account.originalId,
    FromUserName: user(n),
    CreateTime: String(1_764_000_000 + at),
    MsgType: 'event',
    ...fields,
  });
const follow = (n: number, at: number, scene: string) =>
  push(n, at, { Event: 'subscribe', EventKey: `qrscene_${scene}`, Ticket: 'T' });
const scan = (n: number, at: number, scene: string) =>
  push(n, at, { Event: 'SCAN', EventKey: scene, Ticket: 'T' });
const unfollow = (n: number, at: number) => push(n, at, { Event: 'unsubscribe' });

/** Events of one user in order (one partition per user), users side by side. */
async function publish(events: ReturnType<typeof push>[]) {
  for (const event of events) await publisher.publish(event);
}

function replay(until?: Date) {
  return replayReadModel({
    kafka,
    mongo,
    service: 'qr-attribution',
    collections: attributionCollections,
    behaviourFor: (names) => attributionBehaviour(names),
    opener,
    logger,
    metrics: createMetricsRegistry('point-in-time-test'),
    stream: quiet,
    ...(until === undefined ? {} : { until }),
  });
}

/** Every collection of the model (users, campaign counts, journeys, funnels), this account's part. */
const contents = async (names: Record<string, string>) => {
  expect(Object.keys(names).sort()).toEqual(Object.keys(attributionCollections).sort());
  const parts: Record<string, unknown[]> = {};
  for (const [role, name] of Object.entries(names))
    parts[role] = await mongo.db.collection(name).find({ appId }).sort({ _id: 1 }).toArray();
  return parts;
};

const stats = (scene: string, snapshot?: string) =>
  admin
    .get(
      `/api/apps/${appId}/campaigns/${scene}/stats` +
        (snapshot === undefined ? '' : `?snapshot=${encodeURIComponent(snapshot)}`),
    )
    .then((response) => documented<Record<string, unknown>>(response, ops.campaignStats));

describe('point-in-time replay', () => {
  it('builds the model as the log stood at a time, equal to a replay of the history cut there, beside the live model', async () => {
    // Before the cut: 12 follows through two codes, a scan by a follower, 3 unfollows.
    const before = [];
    for (let n = 0; n < 12; n++) before.push(follow(n, n, n % 2 === 0 ? 'spring' : 'autumn'));
    before.push(scan(0, 100, 'autumn'), unfollow(1, 200), unfollow(3, 201), unfollow(5, 202));
    await publish(before);
    // The history cut at that time, replayed whole: what the snapshot must equal.
    const whole = await replay();
    const cutReplay = await contents(
      await activeCollections(mongo.db, 'qr-attribution', attributionCollections),
    );
    expect(cutReplay.users).toHaveLength(12);

    await new Promise((resolve) => setTimeout(resolve, 50));
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // After the cut: new follows, returning followers, unfollows of earlier followers, scans.
    const after = [];
    for (let n = 12; n < 20; n++) after.push(follow(n, 300 + n, 'spring'));
    after.push(follow(1, 400, 'autumn'), unfollow(0, 401), unfollow(2, 402), scan(4, 403, 'spring'));
    await publish(after);

    const pointer = await activeCollections(mongo.db, 'qr-attribution', attributionCollections);
    const result = await replay(cut);
    expect(result.snapshot).toMatch(/^qr-attribution\.[0-9a-z]+$/);
    const snapshot = (await findSnapshot(mongo.db, result.snapshot!))!;
    expect(snapshot.until).toEqual(cut);
    expect(Object.values(snapshot.collections).every((name) => name.includes('__asof_'))).toBe(true);
    expect(await contents(snapshot.collections)).toEqual(cutReplay);

    // The live model and its pointer were left alone.
    expect(await activeCollections(mongo.db, 'qr-attribution', attributionCollections)).toEqual(pointer);
    expect(pointer).toEqual(
      Object.fromEntries(Object.keys(attributionCollections).map((role, i) => [role, whole.swapped[i]])),
    );
    expect(await contents(pointer)).toEqual(cutReplay);

    // The admin API reads campaign figures from the snapshot, and from the live model otherwise.
    const springThen = await stats('spring', result.snapshot);
    expect(springThen).toMatchObject({ scans: 0, subscribes: 6, returning: 0, unsubscribes: 0 });
    expect(springThen.snapshot).toEqual({ id: result.snapshot, until: cut.toISOString() });
    expect(await stats('autumn', result.snapshot)).toMatchObject({
      scans: 1,
      subscribes: 6,
      returning: 0,
      unsubscribes: 3,
    });
    // A full replay now sees what came after the cut: the snapshot's figures were not the same by chance.
    await replay();
    expect(await stats('spring')).toMatchObject({ scans: 1, subscribes: 14, returning: 0, unsubscribes: 2 });
    expect(await stats('autumn')).toMatchObject({ scans: 1, subscribes: 6, returning: 1, unsubscribes: 3 });
    expect(await stats('spring', result.snapshot)).toMatchObject({ subscribes: 6, unsubscribes: 0 });
    // The funnel too: the snapshot's spring cohort has its 6 follows; the live one the 8 more.
    const funnel = (snapshot?: string) =>
      admin
        .get(
          `/api/apps/${appId}/campaigns/spring/funnel` +
            (snapshot === undefined ? '' : `?snapshot=${encodeURIComponent(snapshot)}`),
        )
        .then((response) => documented<Record<string, unknown>>(response, ops.campaignFunnel));
    expect(await funnel(result.snapshot)).toMatchObject({
      newFollows: 6,
      unfollowedWithin7d: 0,
      snapshot: { id: result.snapshot },
    });
    expect(await funnel()).toMatchObject({ newFollows: 14, unfollowedWithin7d: 2 });

    const listed = await documented<{ snapshots: { id: string; until: string; events: number }[] }>(
      await admin.get('/api/snapshots'),
      ops.listSnapshots,
    );
    expect(listed.snapshots.find((s) => s.id === result.snapshot)).toMatchObject({
      until: cut.toISOString(),
      events: result.events,
    });

    // Dropping it takes its collections with it; then it is not found.
    await documented(await admin.request('DELETE', `/api/snapshots/${result.snapshot}`), ops.deleteSnapshot);
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    for (const name of Object.values(snapshot.collections)) expect(names).not.toContain(name);
    const gone = await admin.get(`/api/apps/${appId}/campaigns/spring/stats?snapshot=${result.snapshot}`);
    expect(gone.status).toBe(404);
    await documented(gone, ops.campaignStats);
    expect((await admin.request('DELETE', `/api/snapshots/${result.snapshot}`)).status).toBe(404);
  });

  it('refuses a malformed snapshot id with a 400 that does not repeat it', async () => {
    const response = await admin.get(`/api/apps/${appId}/campaigns/spring/stats?snapshot=%3Cscript%3E`);
    expect(response.status).toBe(400);
    const body = await documented<{ message: string }>(response, ops.campaignStats);
    expect(body.message).not.toContain('<script>');
    expect((await admin.request('DELETE', '/api/snapshots/..%2Fadmin')).status).toBe(400);
  });
});
