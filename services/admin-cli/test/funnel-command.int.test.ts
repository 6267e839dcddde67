import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '@wxp/kafka';
import { connectMongo, type MongoConnection } from '@wxp/mongo';
import pino from 'pino';
import { qrAttributionConsumers } from '../../qr-attribution/src/attribution-service';
import { funnelHistory, handCountedFunnel } from '../../../test/support/funnel-history';
import { kafkaBrokers, mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { SealingPublisher } from '../../../test/support/privacy';
import { startAdmin, type RunningAdmin } from '../../../test/support/running-admin';
import { caughtUp, startConsumers, type TestConsumer } from '../../../test/support/running-consumers';
import { testAccount } from '../../../test/support/wechat-push';
import { runNodeProgram, type ProgramRun } from '../../../test/support/node-program';

const cli = join(__dirname, '..', 'dist', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'wxp-funnel-'));
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'funnel-cli-test', logger });
const account = testAccount();
const adminToken = `admin-${uniqueName('token')}`;
let mongo: MongoConnection;
let consumers: TestConsumer[] = [];
let publisher: SealingPublisher;
let admin: RunningAdmin;

/** The CLI as a user runs it, in its own process, against the test's admin API. */
function wxp(args: string[]): Promise<ProgramRun> {
  return runNodeProgram(cli, args, {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      ADMIN_URL: `http://127.0.0.1:${admin.port}`,
      ADMIN_TOKEN: adminToken,
      WXP_DATA_DIR: join(work, 'no-data'),
    },
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm test builds it (npm run build)`);
  mongo = await connectMongo(mongoUrlFor(uniqueName('funnel-cli')), 'funnel-cli-test');
  publisher = await SealingPublisher.connect(kafka, mongo.db);
  consumers = await startConsumers('qr-attribution', kafka, mongo, qrAttributionConsumers());
  admin = await startAdmin(
    mongo,
    { adminToken, privacyKey: 'funnel-cli-privacy-key' },
    { accounts: [account] },
  );
  await publisher.publishAll(funnelHistory(account.appId));
  await caughtUp(kafka, consumers);
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await Promise.all(consumers.map((c) => c.stop()));
  await publisher?.disconnect();
  await mongo?.close();
});

describe('wxp funnel', () => {
  it('prints a campaign’s funnel per cohort day as a table, with its total and shares', async () => {
    const run = await wxp(['funnel', account.appId, 'spring', '--from', '2026-03-01', '--to', '2026-03-05']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain(
      `funnel of scene spring of ${account.appId}, cohorts of 2026-03-01 to 2026-03-05`,
    );
    const cells = (label: string, figures: number[]) =>
      new RegExp(`${label}\\s*│\\s*${figures.join('\\s*│\\s*')}\\s*│`);
    expect(run.stdout).toMatch(cells('2026-03-01', [0, 0, 0, 0, 0, 0]));
    expect(run.stdout).toMatch(cells('2026-03-02', [3, 2, 0, 1, 1, 2]));
    expect(run.stdout).toMatch(cells('2026-03-03', [1, 1, 0, 1, 0, 0]));
    expect(run.stdout).toMatch(cells('total', [5, 3, 0, 2, 1, 2]));
    expect(run.stdout).toContain(
      'of 3 follows: 67 % engaged within 24 h, 33 % left within 7 days, 67 % within 30 days',
    );
  });

  it('takes the scene alone when there is one account, and prints JSON with --json', async () => {
    const run = await wxp(['--json', 'funnel', 'metro']);
    expect(run.code).toBe(0);
    const funnel = JSON.parse(run.stdout) as { days: { day: string }[] };
    expect(Object.fromEntries(funnel.days.map(({ day, ...figures }) => [day, figures]))).toEqual(
      handCountedFunnel.metro,
    );
  });

  it('refuses a day that is not one with a usage error, and a range the API refuses with its message', async () => {
    const notADay = await wxp(['funnel', 'spring', '--from', 'yesterday']);
    expect(notADay.code).toBe(2);
    expect(notADay.stderr).toContain('--from must be a day as YYYY-MM-DD');
    const backwards = await wxp(['funnel', 'spring', '--from', '2026-03-05', '--to', '2026-03-01']);
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toContain('query.from must not be after query.to');
    const help = await wxp(['funnel', '--help']);
    expect([help.code, help.stdout]).toEqual([
      0,
      expect.stringContaining('Usage: wxp funnel [options] [appId] <scene>'),
    ]);
  });
});
