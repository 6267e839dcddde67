import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@wxp/devstack';
import { activeCollections } from '@wxp/mongo';
import { MongoClient, type Db } from 'mongodb';
import { committedEvents, progressAdmin, topicEvents } from '../consumer-progress';
import { BENCH_PRIVACY_KEY } from '../push-pipeline';
import type { PhaseContext } from '../phase-context';
import { accountHistory, HistorySealer, publishPaced } from '../replay-history';
import { REPLAYED_SERVICES, type ReplayedService } from '../replay-throughput';
import { whole, type Figure, type PhaseResult } from '../results';
import { startService, type RunningService } from '../services';

const KILLS = 10;
const RATE = 200;
/** A consumer that commits nothing for this long after the history has ended is not waited for. */
const STILL_SECONDS = 60;

/** The collections each service writes, by role, under the names its replay and pointer use. */
const collectionsOf: Record<ReplayedService, Record<string, string>> = {
  'subscriber-projection': { subscribers: 'subscribers', counts: 'follower_counts' },
  'qr-attribution': { users: 'attribution_users', campaigns: 'campaign_counts' },
};

interface Difference {
  usersMissing: number;
  usersExtra: number;
  usersDiffering: number;
  countsLost: number;
  countsDoubled: number;
}

/** Every number in the counts documents, by document and path, except the bookkeeping of positions. */
function numbersOf(value: unknown, path = '', into = new Map<string, number>()): Map<string, number> {
  if (typeof value === 'number') into.set(path, value);
  else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'position' || key === 'partition' || key === 'positions') continue;
      numbersOf(inner, `${path}.${key}`, into);
    }
  }
  return into;
}

async function compare(clean: Db, crashed: Db, service: ReplayedService): Promise<Difference> {
  const [cleanUsers, cleanCounts] = Object.values(
    await activeCollections(clean, service, collectionsOf[service]),
  ) as [string, string];
  const [crashedUsers, crashedCounts] = Object.values(
    await activeCollections(crashed, service, collectionsOf[service]),
  ) as [string, string];
  const byId = async (db: Db, name: string) =>
    new Map((await db.collection(name).find({}).toArray()).map((d) => [String(d._id), JSON.stringify(d)]));
  const expected = await byId(clean, cleanUsers);
  const actual = await byId(crashed, crashedUsers);
  const difference: Difference = {
    usersMissing: 0,
    usersExtra: 0,
    usersDiffering: 0,
    countsLost: 0,
    countsDoubled: 0,
  };
  for (const [id, doc] of expected) {
    const found = actual.get(id);
    if (found === undefined) difference.usersMissing++;
    else if (found !== doc) difference.usersDiffering++;
  }
  for (const id of actual.keys()) if (!expected.has(id)) difference.usersExtra++;
  const counts = async (db: Db, name: string) =>
    numbersOf(
      Object.fromEntries(
        (await db.collection(name).find({}).toArray()).map((d) => [String(d._id), { ...d, _id: undefined }]),
      ),
    );
  const expectedCounts = await counts(clean, cleanCounts);
  const actualCounts = await counts(crashed, crashedCounts);
  for (const path of new Set([...expectedCounts.keys(), ...actualCounts.keys()])) {
    const delta = (actualCounts.get(path) ?? 0) - (expectedCounts.get(path) ?? 0);
    if (delta < 0) difference.countsLost -= delta;
    else difference.countsDoubled += delta;
  }
  return difference;
}

/**
 * When a consumer stopped committing, every consumer's last output (warnings and errors) is kept
 * where the run's files are, to say why.
 */
function keepOutputs(consumers: Consumer[], log: (line: string) => void): void {
  const dir = join(repoRoot(), '.data', 'bench', 'logs');
  mkdirSync(dir, { recursive: true });
  for (const consumer of consumers) {
    const file = join(dir, `5b-${consumer.group}.log`);
    writeFileSync(file, consumer.service.process.output());
    log(`kills: ${consumer.name}'s last output in ${file}`);
  }
}

interface Consumer {
  name: ReplayedService;
  group: string;
  service: RunningService;
  kills: number;
  killedAt: number[];
}

async function startConsumer(
  context: PhaseContext,
  name: ReplayedService,
  mongoUrl: string,
  label: string,
): Promise<Consumer> {
  const group = `bench-${label}-${name}-${Date.now().toString(36)}`;
  const service = await startService(name, {
    env: {
      KAFKA_BROKERS: context.stack.brokers.join(','),
      MONGO_URL: mongoUrl,
      PRIVACY_KEY: BENCH_PRIVACY_KEY,
      [`${name.toUpperCase().replace(/-/g, '_')}_GROUP`]: group,
      // Retries and rebalances are warnings: what a stalled consumer was doing.
      LOG_LEVEL: 'warn',
    },
  });
  return { name, group, service, kills: 0, killedAt: [] };
}

/**
 * The projections as live services on fresh groups, replaying the topic from offset 0 while more
 * history arrives at 200 events/s, each SIGKILLed ten times at random moments while at work and started
 * again at once. Beside them the same services run untouched into another database; at the end the two
 * read models must be equal: nothing lost, nothing doubled. (Replaying the history alone takes these
 * consumers about a second, too short to kill them ten times while they work.)
 */
export async function consumerKills(context: PhaseContext): Promise<PhaseResult> {
  const { stack, log, scale } = context;
  const started = Date.now();
  // Each kill waits for the restarted member to commit, which takes its predecessor's 10 s session
  // and more: ten kills need about two minutes of history still arriving.
  const seconds = scale.seconds(150, 40);
  const events = RATE * seconds;
  const crashedUrl = stack.mongoUrl('bench_kills');
  const cleanUrl = stack.mongoUrl('bench_kills_clean');
  const admin = await progressAdmin(stack.brokers);
  const crashed: Consumer[] = [];
  const clean: Consumer[] = [];
  const figures: Figure[] = [];
  const rows: string[][] = [];
  let total: number | undefined;
  const behind: string[] = [];
  const interval = 2000;
  try {
    for (const name of REPLAYED_SERVICES) {
      crashed.push(await startConsumer(context, name, crashedUrl, 'killed'));
      clean.push(await startConsumer(context, name, cleanUrl, 'clean'));
    }
    const before = await topicEvents(admin);
    log(
      `kills: replaying ${whole(before)} events from offset 0 while ${whole(events)} more arrive; ${KILLS} SIGKILLs each`,
    );
    const appId = `wxkills${Date.now().toString(36)}`;
    // Both runs open the same events: the keys go to the killed run's store and are copied to the clean one's.
    const sealer = await HistorySealer.connect(crashedUrl, cleanUrl);
    const writing = publishPaced(
      stack.brokers,
      accountHistory(appId, Math.round(events / 10), events),
      sealer,
      RATE,
    ).finally(() => sealer.close());
    await Promise.all(
      crashed.map(async (consumer) => {
        let atRestart = 0;
        for (let kill = 0; kill < KILLS; kill++) {
          await new Promise((r) => setTimeout(r, interval * Math.random()));
          // A restarted member waits out its dead predecessor's session before it gets partitions:
          // each kill waits until the process has committed work of its own, so every kill hits a
          // consumer at work, not one still joining.
          const patience = Date.now() + 30_000;
          let position = await committedEvents(admin, consumer.group);
          while (position <= atRestart && Date.now() < patience) {
            await new Promise((r) => setTimeout(r, 100));
            position = await committedEvents(admin, consumer.group);
          }
          if (position <= atRestart) {
            behind.push(
              `${consumer.name} (killed): no commit within 30 s of its restart at ${whole(atRestart)}; no more kills`,
            );
            break;
          }
          await new Promise((r) => setTimeout(r, Math.random() * 300));
          consumer.killedAt.push(position);
          consumer.service.process.kill('SIGKILL');
          consumer.kills++;
          atRestart = position;
          await consumer.service.restart();
        }
      }),
    );
    await writing;
    total = await topicEvents(admin);
    // The read models are compared once every consumer has committed the whole topic: a consumer
    // still reading is waited for while it moves, and given up on after a minute without a commit.
    for (const consumer of [...crashed, ...clean]) {
      let done = await committedEvents(admin, consumer.group);
      let movedAt = Date.now();
      while (done < total && Date.now() - movedAt < STILL_SECONDS * 1000) {
        await new Promise((r) => setTimeout(r, 250));
        const now = await committedEvents(admin, consumer.group);
        if (now > done) movedAt = Date.now();
        done = now;
      }
      // Compared all the same: what a consumer that stopped short left out counts as lost.
      if (done < total)
        behind.push(
          `${consumer.name} (${clean.includes(consumer) ? 'clean' : 'killed'}): ${whole(done)} of ${whole(total)} committed, none for ${STILL_SECONDS} s after the history ended`,
        );
    }
    // A store that has stopped answering fails the comparison instead of holding the run.
    const cleanClient = new MongoClient(cleanUrl, { socketTimeoutMS: 30_000 });
    const crashedClient = new MongoClient(crashedUrl, { socketTimeoutMS: 30_000 });
    await Promise.all([cleanClient.connect(), crashedClient.connect()]);
    try {
      for (const consumer of crashed) {
        const d = await compare(cleanClient.db(), crashedClient.db(), consumer.name);
        log(`kills: ${consumer.name} ${JSON.stringify(d)}`);
        rows.push([
          consumer.name,
          String(consumer.kills),
          consumer.killedAt.map(whole).join(', '),
          whole(d.usersMissing),
          whole(d.usersExtra),
          whole(d.usersDiffering),
          whole(d.countsLost),
          whole(d.countsDoubled),
        ]);
        const lost = d.usersMissing + d.countsLost;
        const doubled = d.usersExtra + d.countsDoubled;
        figures.push({
          name: `${consumer.name} SIGKILLed ${consumer.kills}× during a replay: lost / doubled`,
          value: `${whole(lost)} / ${whole(doubled)} (${whole(d.usersDiffering)} user documents differ from the clean run)`,
          target: '0 / 0',
          met:
            lost === 0 &&
            doubled === 0 &&
            d.usersDiffering === 0 &&
            consumer.kills === KILLS &&
            behind.length === 0,
        });
      }
    } finally {
      await Promise.all([cleanClient.close(), crashedClient.close()]);
    }
  } finally {
    await admin.disconnect();
    for (const consumer of crashed) {
      context.memory.record(
        consumer.name,
        `replay from offset 0 under 200 events/s, SIGKILLed ${consumer.kills}×`,
        consumer.service.peakRssMb(),
      );
    }
    if (behind.length > 0) keepOutputs([...crashed, ...clean], context.log);
    await Promise.all([...crashed, ...clean].map((c) => c.service.stop()));
  }
  return {
    id: 'kills',
    title: '5b. Fault: consumers SIGKILLed during a replay',
    setup: [
      `The subscriber projection and QR attribution as live services (own processes) on fresh groups, reading wechat.events.v1 from offset 0 (what the topic holds when the phase starts: nothing earlier in a full run, which starts with this phase) while ${whole(events)} more events of another account arrive at ${RATE}/s.`,
      `Each is SIGKILLed ${KILLS} times and started again at once (without waiting for its health): a kill waits a random 0–${Math.round(interval / 1000)} s, then until the running process has committed work of its own (a restarted member first waits out its predecessor's 10 s session), then a random 0–300 ms. The committed position at each kill is listed.`,
      `The same two services run untouched beside them into another database; at the end (${whole(total ?? 0)} events) the read models are compared: users missing, extra or different, and every counter (lost when lower, doubled when higher).`,
    ],
    figures,
    tables: [
      {
        headers: [
          'service',
          'kills',
          'committed events at each kill',
          'users missing',
          'users extra',
          'users differing',
          'counts lost',
          'counts doubled',
        ],
        rows,
      },
    ],
    notes: behind.map((line) => `**Did not catch up:** ${line}.`),
    seconds: (Date.now() - started) / 1000,
  };
}
