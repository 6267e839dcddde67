import { randomBytes } from 'node:crypto';
import { isDuplicateKeyError } from '@wxp/mongo';
import type { Collection } from 'mongodb';
import type { TokenSealer } from './token-sealing';
import { sameSecret } from './secret-comparison';

/** One account's access_token as every process sees it. */
export interface AccessTokenDocument {
  _id: string;
  /**
   * The token sealed with the account's key (TokenSealer). Documents written before tokens were
   * sealed hold a `token` in clear instead; they count as holding no token, and the next refresh
   * replaces them.
   */
  sealedToken?: string;
  expiresAt?: Date;
  /** When a process should start refreshing: ahead of expiry, inside WeChat's overlap window. */
  refreshAt?: Date;
  /** Set when a caller saw the token refused: the next refresh must not hand it out again. */
  forceRefresh?: boolean;
  /** Counts refreshes; the lease for the next one is named after it. */
  generation?: number;
}

/** The right to make refresh number `generation` of an account: whoever inserts it first. */
interface RefreshLease {
  _id: string;
  owner: string;
  at: Date;
}

export interface FetchedToken {
  token: string;
  expiresInSeconds: number;
}

export type TokenFetcher = (appId: string, forceRefresh: boolean) => Promise<FetchedToken>;

export interface SharedAccessTokensOptions {
  /** How long before expiry a refresh starts; capped at a quarter of the token's lifetime. */
  refreshAheadMs?: number;
  /**
   * How long one process may hold the refresh lease before another may take over: longer than a
   * token fetch may take, its retries included (WechatApiClient sets it so).
   */
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
 * not fetch per process. Exactly one process makes each refresh (whoever first inserts
 * that refresh's lease); the others keep using the current token while it is valid, or wait for the new one.
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

  private readonly leases: Collection<RefreshLease>;

  constructor(
    private readonly collection: Collection<AccessTokenDocument>,
    private readonly fetchToken: TokenFetcher,
    private readonly sealer: TokenSealer,
    options: SharedAccessTokensOptions = {},
  ) {
    this.leases = collection.db.collection<RefreshLease>(`${collection.collectionName}_leases`);
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
    const cached = this.cache.get(appId);
    if (cached && sameSecret(cached.token, token)) this.cache.delete(appId);
    // Sealing is randomised, so the stored token is recognised by opening it; the update is
    // guarded by the sealed value, in case another process stored a new token in between.
    const document = await this.collection.findOne({ _id: appId });
    const stored = document?.sealedToken ? this.sealer.open(appId, document.sealedToken) : undefined;
    if (!document || stored === undefined || !sameSecret(stored, token)) return;
    await this.collection.updateOne(
      { _id: appId, sealedToken: document.sealedToken },
      { $set: { refreshAt: EPOCH, expiresAt: EPOCH, forceRefresh: true } },
    );
  }

  private usable(
    appId: string,
    document: AccessTokenDocument | null,
    until: 'refresh' | 'expiry',
  ): string | undefined {
    const limit = until === 'refresh' ? document?.refreshAt : document?.expiresAt;
    if (!document?.sealedToken || !limit || this.now() >= limit.getTime()) return undefined;
    return this.sealer.open(appId, document.sealedToken);
  }

  private remember(appId: string, token: string, refreshAt: Date | undefined): string {
    this.cache.set(appId, { token, refreshAt: refreshAt?.getTime() ?? 0 });
    return token;
  }

  private async lookUp(appId: string): Promise<string> {
    const deadline = this.now() + this.waitMs;
    for (;;) {
      const document = await this.collection.findOne({ _id: appId });
      const current = this.usable(appId, document, 'refresh');
      if (current) return this.remember(appId, current, document?.refreshAt);
      const generation = (document?.generation ?? 0) + 1;
      if (await this.acquireLease(appId, generation)) {
        return this.refresh(appId, generation, document?.forceRefresh === true);
      }
      // Someone else is refreshing: the current token is still good until it expires.
      const stillValid = this.usable(appId, document, 'expiry');
      if (stillValid) return stillValid;
      if (this.now() > deadline) {
        throw new TokenUnavailableError(`no access_token for ${appId} within ${this.waitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /**
   * Only an insert decides who refreshes: a unique key is the one thing both MongoDB and FerretDB
   * make atomic between processes. A lease whose holder died is removed after leaseMs and raced for
   * again the same way.
   */
  private async acquireLease(appId: string, generation: number): Promise<boolean> {
    const _id = `${appId}#${generation}`;
    try {
      await this.leases.insertOne({ _id, owner: this.owner, at: new Date(this.now()) });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const held = await this.leases.findOne({ _id });
    if (held && this.now() - held.at.getTime() > this.leaseMs) {
      await this.leases.deleteOne({ _id, at: held.at });
    }
    return false;
  }

  private async refresh(appId: string, generation: number, forceRefresh: boolean): Promise<string> {
    try {
      const fetched = await this.fetchToken(appId, forceRefresh);
      const lifetimeMs = fetched.expiresInSeconds * 1000;
      const issuedAt = this.now();
      const document: AccessTokenDocument = {
        _id: appId,
        sealedToken: this.sealer.seal(appId, fetched.token),
        expiresAt: new Date(issuedAt + lifetimeMs),
        refreshAt: new Date(issuedAt + lifetimeMs - Math.min(this.refreshAheadMs, lifetimeMs / 4)),
        forceRefresh: false,
        generation,
      };
      // A fetch that outlived its lease may have been overtaken by another process's refresh:
      // that one's token is stored, and this one's must not replace it.
      const held = await this.leases.findOne({ _id: `${appId}#${generation}`, owner: this.owner });
      if (!held) {
        const stored = await this.collection.findOne({ _id: appId });
        const theirs = this.usable(appId, stored, 'expiry');
        if (theirs) return this.remember(appId, theirs, stored?.refreshAt);
      }
      // A replacement, so a token stored in clear by an earlier version goes with it.
      await this.collection.replaceOne({ _id: appId }, document, { upsert: true });
      await this.leases.deleteMany({
        _id: { $in: [`${appId}#${generation - 1}`, `${appId}#${generation - 2}`] },
      });
      return this.remember(appId, fetched.token, document.refreshAt);
    } catch (error) {
      // Let the next caller try at once rather than after the lease times out.
      await this.leases.deleteOne({ _id: `${appId}#${generation}`, owner: this.owner });
      throw error;
    }
  }
}
