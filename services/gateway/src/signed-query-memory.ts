import { hash } from 'node:crypto';

/**
 * What a signed query and its body are to the memory: seen for the `first` time, a `retry` (the same
 * body again, as WeChat retries), `replayed` (another body under a query already used), or
 * `forgotten` (older than the memory still reaches, see below).
 */
export type QuerySighting = 'first' | 'retry' | 'replayed' | 'forgotten';

/**
 * About 25 MB when full. At 2,000 plain-mode pushes a second it reaches 100 s back, far more than
 * WeChat's retries of one push need (three tries, about 5 s apart).
 */
export const defaultReplayMemoryEntries = 200_000;

/** A second body passing for the first would take a second preimage of sha256. */
function digestOf(body: string): string {
  return hash('sha256', body, 'base64');
}

/**
 * Remembers each signed query (appId, timestamp, nonce) with a digest of the body it came with, for
 * as long as its timestamp is inside the clock window; after that the query is refused as stale
 * anyway. Only queries whose signature checked out reach it, so filling it takes the token.
 *
 * Bounded at `maxEntries`, about 125 bytes each. At the cap the oldest remembered second is forgotten
 * whole, and every query at or before it is `forgotten`: the window's lower edge moves up instead of
 * a forgotten query becoming acceptable again. WeChat's pushes carry the current time, so they go on
 * being accepted while the cap holds the memory to its size.
 */
export class SignedQueryMemory {
  /** timestamp → appId → nonce → body digest: a second's entries leave together. */
  private readonly seconds = new Map<number, Map<string, Map<string, string>>>();
  private entries = 0;
  private forgottenUpTo = Number.NEGATIVE_INFINITY;
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries: number,
  ) {
    if (!(maxEntries >= 1)) throw new RangeError('the signed query memory needs room for one entry');
  }

  get size(): number {
    return this.entries;
  }

  /** Looks the query up and, the first time, remembers it with its body. */
  see(appId: string, timestamp: number, nonce: string, body: string, nowSeconds: number): QuerySighting {
    this.sweep(nowSeconds);
    // Its timestamp was inside the window when the headers came; a body held back past the window's
    // end would otherwise meet a memory that has let the query go.
    if (timestamp <= this.forgottenUpTo || nowSeconds - timestamp > this.windowSeconds) return 'forgotten';
    const digest = digestOf(body);
    const known = this.seconds.get(timestamp)?.get(appId)?.get(nonce);
    if (known !== undefined) return known === digest ? 'retry' : 'replayed';

    if (this.entries >= this.maxEntries) {
      this.forgetOldestSecond();
      if (timestamp <= this.forgottenUpTo) return 'forgotten';
    }
    let second = this.seconds.get(timestamp);
    if (second === undefined) this.seconds.set(timestamp, (second = new Map()));
    let nonces = second.get(appId);
    if (nonces === undefined) second.set(appId, (nonces = new Map()));
    nonces.set(nonce, digest);
    this.entries++;
    return 'first';
  }

  /** Drops the seconds that have left the window, at most once a second. */
  private sweep(nowSeconds: number): void {
    const now = Math.floor(nowSeconds);
    if (now === this.sweptAt) return;
    this.sweptAt = now;
    for (const [timestamp, second] of this.seconds) {
      if (nowSeconds - timestamp > this.windowSeconds) this.drop(timestamp, second);
    }
  }

  private forgetOldestSecond(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const timestamp of this.seconds.keys()) oldest = Math.min(oldest, timestamp);
    const second = this.seconds.get(oldest);
    if (second === undefined) return;
    this.drop(oldest, second);
    this.forgottenUpTo = Math.max(this.forgottenUpTo, oldest);
  }

  private drop(timestamp: number, second: Map<string, Map<string, string>>): void {
    for (const nonces of second.values()) this.entries -= nonces.size;
    this.seconds.delete(timestamp);
  }
}
