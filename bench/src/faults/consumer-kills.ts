import { Topics } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import { activeCollections } from '@wxp/mongo';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { BENCH_PRIVACY_KEY } from '../end-to-end-latency';
import type { PhaseContext } from '../phase-context';
import { REPLAYED_SERVICES, type ReplayOutcome, type ReplayedService } from '../replay-throughput';
import { whole, type PhaseResult } from '../results';
import { startService, type RunningService } from '../services';

const KILLS = 10;

/** The collections each service writes, by role, as its replay command names them. */
const collectionsOf: Record<ReplayedService, { users: string; counts: string }> = {
  'subscriber-projection': { users: 'subscribers', counts: 'follower_counts' },
  'qr-attribution': { users: 'attribution_users', counts: 'campaign_counts' },
};
const roleOf: Record<ReplayedService, Record<string, string>> = {
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

/** Every number in a counts document, by path, except the bookkeeping of positions. */
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
  const cleanNames = await activeCollections(clean, service, roleOf[service]);
  const names = collectionsOf[service];
  const [cleanUsersName, cleanCountsName] = Object.values(cleanNames);
  const byId = async (db: Db, name: string) =>
    new Map((await db.collection(name).find({}).toArray()).map((d) => [String(d._id), JSON.stringify(d)]));
  const expectedUsers = await byId(clean, cleanUsersName ?? names.users);
  const actualUsers = await byId(crashed, names.users);
  const difference: Difference = {
    usersMissing: 0,
    usersExtra: 0,
    usersDiffering: 0,
    countsLost: 0,
    countsDoubled: 0,
  };
  for (const [id, doc] of expectedUsers) {
    const actual = actualUsers.get(id);
    if (actual === undefined) difference.usersMissing++;
    else if (actual !== doc) difference.usersDiffering++;
  }
  for (const id of actualUsers.keys()) if (!expectedUsers.has(id)) difference.usersExtra++;
  const expectedCounts = numbersOf(
    await clean
      .collection(cleanCountsName ?? names.counts)
      .find({})
      .sort({ _id: 1 })
      .toArray(),
  );
  const actualCounts = numbersOf(await crashed.collection(names.counts).find({}).sort({ _id: 1 }).toArray());
  for (const path of new Set([...expectedCounts.keys(), ...actualCounts.keys()])) {
    const delta = (actualCounts.get(path) ?? 0) - (expectedCounts.get(path) ?? 0);
    if (delta < 0) difference.countsLost -= delta;
    else difference.countsDoubled += delta;
  }
  return difference;
}

/** Events the group has committed, summed over the partitions. */
async function committedEvents(admin: ReturnType<ReturnType<typeof createKafka>['admin']>, groupId: string) {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [Topics.events] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/**
 * The projections as live services, each on a fresh group reading the replay's history from offset 0,
 * SIGKILLed ten times each at evenly spread points of their progress and started again at once. At
 * the end their read models must equal what the clean replay built: nothing lost, nothing doubled.
 */
export async function consumerKills(context: PhaseContext, replay?: ReplayOutcome): Promise<PhaseResult> {
  if (!replay) throw new Error('needs the replay phase, whose read models are the clean run');
  const { stack, log } = context;
  const started = Date.now();
  const crashedUrl = stack.mongoUrl('bench_kills');
  const stamp = Date.now().toString(36);
  const kafka = createKafka({
    brokers: stack.brokers,
    clientId: 'bench-kills',
    logger: pino({ level: 'silent' }),
  });
  const admin = kafka.admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(Topics.events)).reduce((sum, o) => sum + Number(o.high), 0);
  const services: {
    name: ReplayedService;
    group: string;
    service: RunningService;
    kills: number;
    /** Committed progress when it was last started: the next kill waits until it has moved on. */
    doneAtRestart: number;
  }[] = [];
  const rows: string[][] = [];
  const figures = [];
  try {
    for (const name of REPLAYED_SERVICES) {
      const prefix = name.toUpperCase().replace(/-/g, '_');
      const group = `bench-kills-${name}-${stamp}`;
      const service = await startService(name, {
        env: {
          KAFKA_BROKERS: stack.brokers.join(','),
          MONGO_URL: crashedUrl,
          PRIVACY_KEY: BENCH_PRIVACY_KEY,
          WECHAT_ACCOUNTS_FILE: context.accounts.file,
          [`${prefix}_GROUP`]: group,
        },
      });
      services.push({ name, group, service, kills: 0, doneAtRestart: -1 });
    }
    log(`kills: ${services.length} services reading ${whole(total)} events, ${KILLS} SIGKILLs each`);
    const deadline = Date.now() + 540_000;
    for (;;) {
      let finished = true;
      for (const entry of services) {
        const done = await committedEvents(admin, entry.group);
        if (done < total) finished = false;
        // Kill points at 5 %, 15 %, … 95 % of the history: spread over the whole replay.
        // The next kill waits until the restarted process has committed something, so that every
        // kill hits a consumer at work rather than one still joining its group.
        if (
          entry.kills < KILLS &&
          done < total &&
          done > entry.doneAtRestart &&
          done >= ((entry.kills + 0.5) / KILLS) * total
        ) {
          entry.kills++;
          entry.service.process.kill('SIGKILL');
          entry.doneAtRestart = done;
          await entry.service.restart();
          log(`kills: ${entry.name} killed at ${whole(done)} of ${whole(total)} (${entry.kills}/${KILLS})`);
        }
      }
      if (finished) break;
      if (Date.now() > deadline) throw new Error('the killed services did not finish the history in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    const clean = new MongoClient(replay.mongoUrl);
    const crashed = new MongoClient(crashedUrl);
    await Promise.all([clean.connect(), crashed.connect()]);
    try {
      for (const entry of services) {
        const d = await compare(clean.db(), crashed.db(), entry.name);
        log(`kills: ${entry.name} ${JSON.stringify(d)}`);
        rows.push([
          entry.name,
          String(entry.kills),
          whole(d.usersMissing),
          whole(d.usersExtra),
          whole(d.usersDiffering),
          whole(d.countsLost),
          whole(d.countsDoubled),
        ]);
        const lost = d.usersMissing + d.countsLost;
        const doubled = d.usersExtra + d.countsDoubled;
        figures.push({
          name: `${entry.name} SIGKILLed ${entry.kills}× during a replay: lost / doubled`,
          value: `${whole(lost)} / ${whole(doubled)} (${whole(d.usersDiffering)} user documents differ from the clean replay)`,
          target: '0 / 0',
          met: lost === 0 && doubled === 0 && d.usersDiffering === 0,
        });
      }
    } finally {
      await Promise.all([clean.close(), crashed.close()]);
    }
  } finally {
    await admin.disconnect();
    for (const entry of services) {
      context.memory.record(
        entry.name,
        `reading ${whole(total)} events from offset 0, killed ${entry.kills}×`,
        entry.service.peakRssMb(),
      );
      await entry.service.stop();
    }
  }
  return {
    id: 'kills',
    title: '5b. Fault: consumers SIGKILLed during a replay',
    setup: [
      `The subscriber projection and QR attribution as live services (own processes), each on a fresh group reading the replay's ${whole(total)} events from offset 0 into a database of their own.`,
      `Each is SIGKILLed ${KILLS} times, when its committed progress passes 5 %, 15 %, … 95 % of the history, and started again at once.`,
      'Compared at the end with the read models the clean replay built: users missing or extra, user documents that differ, and every counter (lost when lower, doubled when higher).',
    ],
    figures,
    tables: [
      {
        headers: [
          'service',
          'kills',
          'users missing',
          'users extra',
          'users differing',
          'counts lost',
          'counts doubled',
        ],
        rows,
      },
    ],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
