import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  ensureKafkaClasspath,
  newClusterId,
  startKafkaBroker,
  type Report,
  type RunningKafkaBroker,
} from './kafka-broker';
import { ensurePrivateDir } from './private-dir';

/** Where one node listens: clients on `port`, the other controllers on `controllerPort`. */
export interface ClusterNodePorts {
  port: number;
  controllerPort: number;
}

/** The ports of `npm run stack -- cluster`: brokers on 9092–9094, their controllers 100 above. */
export const CLUSTER_PORTS: readonly ClusterNodePorts[] = [9092, 9093, 9094].map((port) => ({
  port,
  controllerPort: port + 100,
}));

export interface KafkaClusterOptions {
  /** Each node keeps its data in `node-<id>/` below this folder; the cluster id is kept beside them. */
  dataDir: string;
  /** One entry per node; node ids are 1, 2, 3, … in this order. Three for a quorum that survives one loss. */
  nodes: readonly ClusterNodePorts[];
  report: Report;
  heapMb?: number;
}

/**
 * A KRaft cluster of combined broker-controller nodes on 127.0.0.1. Topics are created at
 * replication 3 with `min.insync.replicas=2` by default, so every service runs against it unchanged.
 * Nodes can be stopped, SIGKILLed and started again on their data, for fault runs.
 */
export class KafkaCluster {
  private readonly running = new Map<number, RunningKafkaBroker>();

  private constructor(
    private readonly options: KafkaClusterOptions,
    private readonly clusterId: string,
  ) {}

  static async start(options: KafkaClusterOptions): Promise<KafkaCluster> {
    if (options.nodes.length < 1) throw new Error('kafka cluster: at least one node');
    ensurePrivateDir(options.dataDir);
    // Kept with the data: a restarted cluster's nodes must keep the id they were formatted with.
    const idFile = join(options.dataDir, 'cluster.id');
    const clusterId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : newClusterId();
    writeFileSync(idFile, clusterId, { mode: 0o600 });
    const cluster = new KafkaCluster(options, clusterId);
    // Fetched once before the nodes start: three first-run fetches would share one staging folder.
    await ensureKafkaClasspath(options.report);
    // All at once: no node is ready before a majority of the controllers has elected a leader.
    const started = await Promise.allSettled(cluster.nodeIds.map((id) => cluster.startNode(id)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await cluster.stop();
      throw failed.reason;
    }
    return cluster;
  }

  get nodeIds(): number[] {
    return this.options.nodes.map((_, i) => i + 1);
  }

  /** Every node's address, running or not: clients find the live ones. */
  get brokers(): string[] {
    return this.options.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  /** The node listening on `address`, or undefined. */
  nodeAt(address: string): number | undefined {
    const index = this.brokers.indexOf(address);
    return index < 0 ? undefined : index + 1;
  }

  isRunning(nodeId: number): boolean {
    return this.running.has(nodeId);
  }

  /** The node's process group, for its CPU time; undefined while it is down. */
  processGroupOf(nodeId: number): number | undefined {
    return this.running.get(nodeId)?.process.pid;
  }

  /** Starts a node on its data (formatting it the first time); resolves once it answers metadata. */
  async startNode(nodeId: number): Promise<void> {
    if (this.running.has(nodeId)) return;
    const ports = this.portsOf(nodeId);
    const broker = await startKafkaBroker({
      dataDir: this.dataDirOf(nodeId),
      port: ports.port,
      controllerPort: ports.controllerPort,
      report: this.options.report,
      ...(this.options.heapMb ? { heapMb: this.options.heapMb } : {}),
      cluster: {
        nodeId,
        clusterId: this.clusterId,
        voters: this.options.nodes.map((n, i) => ({ nodeId: i + 1, controllerPort: n.controllerPort })),
      },
    });
    this.running.set(nodeId, broker);
  }

  /** SIGTERM: the node hands its partitions' leadership over and shuts down cleanly. */
  async stopNode(nodeId: number): Promise<void> {
    const broker = this.running.get(nodeId);
    this.running.delete(nodeId);
    await broker?.stop();
  }

  /** SIGKILL: the node is gone at once, mid-write, leaderships and all. */
  async killNode(nodeId: number): Promise<void> {
    const broker = this.running.get(nodeId);
    this.running.delete(nodeId);
    await broker?.process.kill();
  }

  /**
   * The node that is the active controller (the metadata quorum's leader): the highest-epoch leader
   * among the quorum states the running nodes have written, so a node that has not yet heard of a
   * newer election does not decide.
   */
  activeController(): number | undefined {
    let best: { leaderId: number; leaderEpoch: number } | undefined;
    for (const nodeId of this.running.keys()) {
      const file = join(this.dataDirOf(nodeId), 'log', '__cluster_metadata-0', 'quorum-state');
      if (!existsSync(file)) continue;
      const state = JSON.parse(readFileSync(file, 'utf8')) as { leaderId?: number; leaderEpoch?: number };
      if (typeof state.leaderId !== 'number' || state.leaderId < 0 || typeof state.leaderEpoch !== 'number')
        continue;
      if (!best || state.leaderEpoch > best.leaderEpoch)
        best = { leaderId: state.leaderId, leaderEpoch: state.leaderEpoch };
    }
    return best?.leaderId;
  }

  /** Which node leads each partition of `topic`, as the running nodes' metadata says now. */
  async leadersOf(topic: string): Promise<Map<number, number>> {
    const admin = this.probe().admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      return new Map(partitions.map((p) => [p.partitionId, p.leader]));
    } finally {
      await admin.disconnect();
    }
  }

  /** The node leading the most partitions of `topic`: the one whose loss disturbs writes most. */
  async busiestLeaderOf(topic: string): Promise<number> {
    const leaders = [...(await this.leadersOf(topic)).values()];
    return this.nodeIds
      .map((id) => ({ id, led: leaders.filter((leader) => leader === id).length }))
      .sort((a, b) => b.led - a.led)[0]!.id;
  }

  /**
   * Until every partition of `topic` has a leader among the running nodes and all of its replicas in
   * sync again: a node started after a fault has caught up once this resolves.
   */
  async untilFullyReplicated(topic: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let lagging: string;
      try {
        const admin = this.probe().admin();
        await admin.connect();
        try {
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          const partitions = metadata.topics[0]?.partitions ?? [];
          const behind = partitions.filter(
            (p) => p.leader < 0 || p.isr.length < p.replicas.length || !this.running.has(p.leader),
          );
          if (partitions.length > 0 && behind.length === 0) return;
          lagging = `${behind.length} of ${partitions.length} partitions short of replicas`;
        } finally {
          await admin.disconnect();
        }
      } catch (error) {
        lagging = (error as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`kafka cluster: ${topic} not fully replicated within ${timeoutMs} ms (${lagging})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodeIds.map((id) => this.stopNode(id)));
  }

  private probe(): Kafka {
    return new Kafka({
      clientId: 'devstack-cluster-probe',
      brokers: this.nodeIds.filter((id) => this.running.has(id)).map((id) => this.brokers[id - 1]!),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 2 },
    });
  }

  private portsOf(nodeId: number): ClusterNodePorts {
    const ports = this.options.nodes[nodeId - 1];
    if (!ports) throw new Error(`kafka cluster: no node ${nodeId}`);
    return ports;
  }

  private dataDirOf(nodeId: number): string {
    return join(this.options.dataDir, `node-${nodeId}`);
  }
}
