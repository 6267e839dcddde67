import { ReadModels, userKey } from '@wxp/contracts';
import { MongoClient } from 'mongodb';

interface Pending {
  id: string;
  deadline: number;
  resolve(seenAt: number | undefined): void;
}

/**
 * Watches for users to appear in the subscribers read model and reports when each was first seen.
 * One loop looks up every pending user by _id (what the admin API does, and the only filter
 * FerretDB's SQLite backend answers without a scan), then waits a few milliseconds: the probe's load
 * on the store stays bounded however far the projection falls behind.
 */
export class ReadModelProbe {
  private readonly pending = new Map<string, Pending>();
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly client: MongoClient,
    private readonly privacyKey: string,
    private readonly everyMs: number,
  ) {
    this.loop = this.poll();
  }

  static async connect(mongoUrl: string, privacyKey: string, everyMs = 10): Promise<ReadModelProbe> {
    const client = new MongoClient(mongoUrl, { maxPoolSize: 16 });
    await client.connect();
    return new ReadModelProbe(client, privacyKey, everyMs);
  }

  /** Resolves with the time (performance.now()) the user was first found following, or undefined at the deadline. */
  seen(appId: string, openId: string, deadlineMs: number): Promise<number | undefined> {
    const id = userKey(this.privacyKey, appId, openId);
    return new Promise((resolve) =>
      this.pending.set(id, { id, deadline: performance.now() + deadlineMs, resolve }),
    );
  }

  private async poll(): Promise<void> {
    const subscribers = this.client.db().collection<{ _id: string; state?: string }>(ReadModels.subscribers);
    while (this.running) {
      const batch = [...this.pending.values()].slice(0, 64);
      await Promise.all(
        batch.map(async (p) => {
          const found = await subscribers
            .findOne({ _id: p.id }, { projection: { state: 1 } })
            .catch(() => null);
          const now = performance.now();
          if (found?.state === 'following' || now > p.deadline) {
            this.pending.delete(p.id);
            p.resolve(found?.state === 'following' ? now : undefined);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const p of this.pending.values()) p.resolve(undefined);
    await this.client.close();
  }
}
