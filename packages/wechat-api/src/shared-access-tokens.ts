import { randomBytes } from 'node:crypto';
import { isDuplicateKeyError } from '@wxp/mongo';
import type { Collection } from 'mongodb';

/** One account's access_token as every process sees it, with the lease that guards its refresh. */
export interface AccessTokenDocument {
  _id: string;
  token?: string;
  expiresAt?: Date;
  /** When a process should start refreshing: ahead of expiry, inside WeChat's overlap window. */
  refreshAt?: Date;
  /** Set when a caller saw the token refused: the next refresh must not hand it out again. */
  forceRefresh?: boolean;
  leaseOwner?: string;
  leaseUntil?: Date;
}

export interface FetchedToken {
  token: string;
  expiresInSeconds: number;
}

export type TokenFetcher = (appId: string, forceRefresh: boolean) => Promise<FetchedToken>;

export interface SharedAccessTokensOptions {
  /** How long before expiry a refresh starts; capped at a quarter of the token's lifetime. */
  refreshAheadMs?: number;
  /** How long one process may hold the refresh lease before another may take over. */
  leaseMs?: number;
  /** How long a caller waits for another process's refresh before giving up. */
  waitMs?: number;
  pollMs?: number;
  now?: () => number;
}

export class TokenUnavailableError extends Error {
  override readonly name = 'TokenUnavailableError';
}

const EPOCH = new Date(0);

/**
 * One access_token per account, shared by every process through the store: WeChat replaces the
 * old token whenever a new one is fetched and allows about 2,000 fetches a day, so a fleet must
 * not fetch per process. Exactly one process refreshes at a time (a lease on the account's
 * document); the others keep using the current token while it is valid, or wait for the new one.
 * Within a process, concurrent callers share one look-up.
 */
export class SharedAccessTokens {
  private readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly cache = new Map<string, { token: string; refreshAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly refreshAheadMs: number;
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly collection: Collection<AccessTokenDocument>,
    private readonly fetchToken: TokenFetcher,
    options: SharedAccessTokensOptions = {},
  ) {
    this.refreshAheadMs = options.refreshAheadMs ?? 5 * 60_000;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.waitMs = options.waitMs ?? 20_000;
    this.pollMs = options.pollMs ?? 50;
    this.now = options.now ?? Date.now;
  }

  async get(appId: string): Promise<string> {
    const cached = this.cache.get(appId);
    if (cached && this.now() < cached.refreshAt) return cached.token;
    let lookup = this.pending.get(appId);
    if (!lookup) {
      lookup = this.lookUp(appId).finally(() => this.pending.delete(appId));
      this.pending.set(appId, lookup);
    }
    return lookup;
  }

  /** Marks `token` as refused by WeChat (40001, 40014, 42001), so that the next get refreshes. */
  async invalidate(appId: string, token: string): Promise<void> {
    if (this.cache.get(appId)?.token === token) this.cache.delete(appId);
    await this.collection.updateOne(
      { _id: appId, token },
      { $set: { refreshAt: EPOCH, expiresAt: EPOCH, forceRefresh: true } },
    );
  }

  private usable(document: AccessTokenDocument | null, until: 'refresh' | 'expiry'): string | undefined {
    const limit = until === 'refresh' ? document?.refreshAt : document?.expiresAt;
    if (document?.token && limit && this.now() < limit.getTime()) return document.token;
    return undefined;
  }

  private remember(appId: string, document: AccessTokenDocument): string {
    const token = document.token as string;
    this.cache.set(appId, { token, refreshAt: document.refreshAt?.getTime() ?? 0 });
    return token;
  }

  private async lookUp(appId: string): Promise<string> {
    const deadline = this.now() + this.waitMs;
    for (;;) {
      const document = await this.collection.findOne({ _id: appId });
      if (this.usable(document, 'refresh')) return this.remember(appId, document as AccessTokenDocument);
      if (await this.acquireLease(appId)) return this.refresh(appId, document?.forceRefresh === true);
      // Someone else is refreshing: the current token is still good until it expires.
      const stillValid = this.usable(document, 'expiry');
      if (stillValid) return stillValid;
      if (this.now() > deadline) {
        throw new TokenUnavailableError(`no access_token for ${appId} within ${this.waitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  private async acquireLease(appId: string): Promise<boolean> {
    const now = new Date(this.now());
    try {
      const result = await this.collection.findOneAndUpdate(
        { _id: appId, $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lt: now } }] },
        { $set: { leaseOwner: this.owner, leaseUntil: new Date(this.now() + this.leaseMs) } },
        { upsert: true, returnDocument: 'after' },
      );
      return result?.leaseOwner === this.owner;
    } catch (error) {
      // The document exists and its lease is held: the upsert's insert collided with it.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  private async refresh(appId: string, forceRefresh: boolean): Promise<string> {
    try {
      const fetched = await this.fetchToken(appId, forceRefresh);
      const lifetimeMs = fetched.expiresInSeconds * 1000;
      const issuedAt = this.now();
      const document: AccessTokenDocument = {
        _id: appId,
        token: fetched.token,
        expiresAt: new Date(issuedAt + lifetimeMs),
        refreshAt: new Date(issuedAt + lifetimeMs - Math.min(this.refreshAheadMs, lifetimeMs / 4)),
        forceRefresh: false,
        leaseOwner: this.owner,
        leaseUntil: EPOCH,
      };
      await this.collection.replaceOne({ _id: appId, leaseOwner: this.owner }, document);
      return this.remember(appId, document);
    } catch (error) {
      await this.collection.updateOne(
        { _id: appId, leaseOwner: this.owner },
        { $set: { leaseUntil: EPOCH } },
      );
      throw error;
    }
  }
}
