import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, topicCatalogue } from '@wxp/contracts';
import {
  freePort,
  startDocumentStore,
  startKafkaBroker,
  type RunningDocumentStore,
  type RunningKafkaBroker,
} from '@wxp/devstack';
import { createKafka, provisionTopics, type Kafka } from '@wxp/kafka';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { unsealedEventsTopic } from './unsealed-topic';

/**
 * A broker and a store of the benchmark's own, on free ports with data in a temp dir, so that a run
 * never meets the local stack or the tests' infrastructure running on the same machine. The broker
 * can be stopped and started again on the same data for the outage test.
 */
export class BenchStack {
  private broker: RunningKafkaBroker | undefined;
  /** Set on a view made by withBrokers: another cluster's addresses. */
  private otherBrokers: string[] | undefined;
  private storeGeneration = 0;
  private constructor(
    private readonly dataDir: string,
    private readonly kafkaPorts: { port: number; controllerPort: number },
    private store: RunningDocumentStore,
    broker: RunningKafkaBroker,
  ) {
    this.broker = broker;
  }

  /**
   * A new, empty store for the next phase. FerretDB's SQLite backend has been seen to stop
   * answering every read and write (ping still answers) after heavy concurrent writing; a phase
   * should not inherit that, nor another phase's data.
   */
  async freshStore(): Promise<void> {
    await this.store.stop();
    this.storeGeneration++;
    this.store = await startDocumentStore({
      dataDir: join(this.dataDir, `store-${this.storeGeneration}`),
      port: await freePort(),
      database: 'bench',
      report: () => undefined,
    });
  }

  /** Whether the store still takes a write and answers a read within a few seconds. */
  async storeAnswers(): Promise<boolean> {
    const client = new MongoClient(this.mongoUrl('bench_health'), {
      serverSelectionTimeoutMS: 3000,
      socketTimeoutMS: 5000,
    });
    try {
      await client.connect();
      const probe = client.db().collection<{ _id: string; at: Date }>('probe');
      await probe.replaceOne({ _id: 'probe' }, { at: new Date() }, { upsert: true });
      return (await probe.countDocuments()) === 1;
    } catch {
      return false;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  static async start(log: (line: string) => void): Promise<BenchStack> {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxp-bench-'));
    const kafkaPorts = { port: await freePort(), controllerPort: await freePort() };
    const report = (line: string) => log(`  ${line}`);
    const [broker, store] = await Promise.all([
      startBrokerOnce(join(dataDir, 'kafka'), kafkaPorts, report),
      startDocumentStore({
        dataDir: join(dataDir, 'store'),
        port: await freePort(),
        database: 'bench',
        report,
      }),
    ]);
    const stack = new BenchStack(dataDir, kafkaPorts, store, broker);
    const logger = pino({ level: 'silent' });
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'bench', logger });
    await provisionTopics(kafka, [...topicCatalogue, unsealedEventsTopic()], logger);
    await warmGroupCoordinator(kafka);
    return stack;
  }

  /** The broker's process group, for its CPU time; undefined while it is stopped. */
  get brokerProcessGroup(): number | undefined {
    return this.broker?.process.pid;
  }

  get brokers(): string[] {
    return this.otherBrokers ?? [`127.0.0.1:${this.kafkaPorts.port}`];
  }

  /** The same store with another Kafka cluster's brokers, for a phase that runs a cluster of its own. */
  withBrokers(brokers: string[]): BenchStack {
    const view = new BenchStack(this.dataDir, this.kafkaPorts, this.store, this.broker!);
    view.otherBrokers = brokers;
    return view;
  }

  /** A folder of the run's data directory, removed with it. */
  dataDirFor(name: string): string {
    return join(this.dataDir, name);
  }

  get storeEngine(): string {
    return this.store.engine;
  }

  /** The store's URL with a database of the caller's own: each phase writes where no other does. */
  mongoUrl(database: string): string {
    const url = new URL(this.store.url);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /**
   * Commits a consumer group at the current end of wechat.events.v1, so that a service started with
   * it handles only what comes next: as a deployment that has long caught up would, and without
   * first reading what earlier phases wrote.
   */
  async positionGroupAtEnd(groupId: string): Promise<void> {
    const admin = createKafka({
      brokers: this.brokers,
      clientId: 'bench',
      logger: pino({ level: 'silent' }),
    }).admin();
    await admin.connect();
    try {
      // A cluster that has just moved a leadership answers "not the leader" until its metadata settles.
      for (let attempt = 0; ; attempt++) {
        try {
          const ends = await admin.fetchTopicOffsets(Topics.events);
          await admin.setOffsets({
            groupId,
            topic: Topics.events,
            partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })),
          });
          return;
        } catch (error) {
          if (!(error as { retriable?: boolean }).retriable || attempt >= 40) throw error;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async stopBroker(): Promise<void> {
    await this.broker?.stop();
    this.broker = undefined;
  }

  /** Starts the broker again after stopBroker; does nothing while it runs. */
  async startBroker(): Promise<void> {
    if (this.broker) return;
    this.broker = await startKafkaBroker({
      dataDir: join(this.dataDir, 'kafka'),
      ...this.kafkaPorts,
      report: () => undefined,
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.broker?.stop(), this.store.stop()]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * On a new broker the first group request creates __consumer_offsets, and until it is loaded the
 * coordinator answers "loading"; the replay command gives up on that answer. Asking once here, with
 * retries, means every phase meets a broker whose coordinator is ready, as in a long-running cluster.
 */
async function warmGroupCoordinator(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.fetchOffsets({ groupId: 'bench-warm-up', topics: [Topics.events] });
        return;
      } catch (error) {
        if (attempt >= 60) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts the broker, and once more if formatting its storage failed: the devstack's random KRaft
 * cluster id sometimes begins with "-", which kafka-storage takes for an option. A fresh directory
 * gets a fresh id.
 */
async function startBrokerOnce(
  dataDir: string,
  ports: { port: number; controllerPort: number },
  report: (line: string) => void,
): Promise<RunningKafkaBroker> {
  try {
    return await startKafkaBroker({ dataDir, ...ports, report });
  } catch (error) {
    if (!/StorageTool format/.test((error as Error).message)) throw error;
    rmSync(dataDir, { recursive: true, force: true });
    return startKafkaBroker({ dataDir, ...ports, report });
  }
}
