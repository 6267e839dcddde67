import { Writable } from 'node:stream';
import { replayReadModel } from '@wxp/consumer-service';
import { noFunnelFigures, type FunnelFigures } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import { activeCollections, connectMongo, type MongoConnection } from '@wxp/mongo';
import { createMetricsRegistry } from '@wxp/service-runtime';
import pino from 'pino';
import {
  attributionBehaviour,
  attributionCollections,
  qrAttributionConsumers,
} from '../../qr-attribution/src/attribution-service';
import * as ops from '../src/api-operations';
import { daysBetween } from '../src/campaign-routes';
import { funnelHistory, handCountedFunnel } from '../../../test/support/funnel-history';
import { kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { documented } from '../../../test/support/openapi-conformance';
import { SealingPublisher, testOpener } from '../../../test/support/privacy';
import { startAdmin, type RunningAdmin } from '../../../test/support/running-admin';
import { caughtUp, startConsumers, type TestConsumer } from '../../../test/support/running-consumers';
import { testAccount } from '../../../test/support/wechat-push';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'funnel-test', logger });
const account = testAccount();
const appId = account.appId;
const adminToken = `admin-${uniqueName('token')}`;
let mongo: MongoConnection;
let publisher: SealingPublisher;
let consumers: TestConsumer[] = [];
let admin: RunningAdmin;

interface FunnelAnswer extends FunnelFigures {
  from?: string;
  to?: string;
  days: (FunnelFigures & { day: string })[];
}

/** What the route must answer for `days`: the hand-counted figures, zeros on quiet days, and their sum. */
function expectedFunnel(scene: 'spring' | 'metro', days: string[]) {
  const rows = days.map((day) => ({ day, ...(handCountedFunnel[scene][day] ?? noFunnelFigures()) }));
  const total = noFunnelFigures();
  for (const row of rows)
    for (const measure of Object.keys(total) as (keyof FunnelFigures)[]) total[measure] += row[measure];
  return { appId, scene, from: days[0], to: days[days.length - 1], ...total, days: rows };
}

const funnel = async (scene: string, query = '') =>
  documented<FunnelAnswer>(
    await admin.get(`/api/apps/${appId}/campaigns/${scene}/funnel${query}`),
    ops.campaignFunnel,
  );

beforeAll(async () => {
  mongo = await connectMongo(mongoUrlFor(uniqueName('funnel')), 'funnel-test');
  publisher = await SealingPublisher.connect(kafka, mongo.db);
  consumers = await startConsumers('qr-attribution', kafka, mongo, qrAttributionConsumers());
  admin = await startAdmin(
    mongo,
    { adminToken, privacyKey: 'funnel-test-privacy-key' },
    { accounts: [account] },
  );
  // The history's duplicate is the same message twice on the topic.
  await publisher.publishAll(funnelHistory(appId));
  await caughtUp(kafka, consumers);
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await mongo?.close();
});

describe('campaign funnel over the real broker and store', () => {
  it('matches the funnel counted by hand, per cohort day with quiet days as zeros', async () => {
    expect(await funnel('spring')).toEqual(expectedFunnel('spring', daysBetween('2026-02-20', '2026-03-04')));
    expect(await funnel('metro', '?from=2026-03-01&to=2026-03-05')).toEqual(
      expectedFunnel('metro', daysBetween('2026-03-01', '2026-03-05')),
    );
    expect(await funnel('metro', '?from=2026-03-03')).toEqual(
      expectedFunnel('metro', ['2026-03-03', '2026-03-04']),
    );
    expect(await funnel('autumn')).toEqual({ appId, scene: 'autumn', ...noFunnelFigures(), days: [] });
  });

  it('gives the same funnel after the read model is rebuilt from the log', async () => {
    const before = await funnel('spring');
    const result = await replayReadModel({
      kafka,
      mongo,
      service: 'qr-attribution',
      collections: attributionCollections,
      behaviourFor: (names) => attributionBehaviour(names),
      opener: testOpener(mongo.db),
      logger,
      metrics: createMetricsRegistry('funnel-replay'),
      stream: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream,
    });
    const { funnels } = await activeCollections(mongo.db, 'qr-attribution', attributionCollections);
    expect(result.swapped).toContain(funnels);
    expect(funnels).not.toBe(attributionCollections.funnels);
    expect(await funnel('spring')).toEqual(before);
    expect(await funnel('metro')).toEqual(expectedFunnel('metro', daysBetween('2026-03-02', '2026-03-04')));
  }, 120_000);

  it('refuses days that are not days, ranges the wrong way round or longer than a year, and strangers', async () => {
    for (const [query, words] of [
      ['?from=2026-02-30', 'query.from is not a day of the calendar'],
      ['?to=yesterday', 'query.to'],
      ['?from=2026-03-05&to=2026-03-01', 'query.from must not be after query.to'],
      ['?from=2025-01-01&to=2026-01-02', 'at most 366 days'],
    ] as const) {
      const refused = await admin.get(`/api/apps/${appId}/campaigns/spring/funnel${query}`);
      expect([query, refused.status]).toEqual([query, 400]);
      expect((await documented<{ message: string }>(refused, ops.campaignFunnel)).message).toContain(words);
    }
    const stranger = await admin.get(`/api/apps/${appId}/campaigns/spring/funnel`, 'not-the-token');
    expect(stranger.status).toBe(401);
  });
});
