import { LRUCache } from 'lru-cache';
import { isIPv6 } from 'node:net';

export interface AuthThrottleOptions {
  /** Failed authentications an address may make in one window before it is answered 429. */
  maxFailures: number;
  /** How long a window lasts, from an address's first failure. */
  windowMs: number;
  /** How many addresses are remembered at once; past it the least recently seen are forgotten. */
  maxAddresses: number;
}

export const defaultAuthThrottle: AuthThrottleOptions = {
  maxFailures: 10,
  windowMs: 15 * 60_000,
  maxAddresses: 10_000,
};

/**
 * Where a request comes from, for counting: an IPv6 client controls a whole /64, so that is one
 * address here; an IPv4 address mapped into IPv6 is the IPv4 address.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, without a zone, each without leading zeros. */
function expandIPv6(ip: string): string[] {
  const bare = ip.split('%')[0]?.toLowerCase() ?? '';
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(bare);
  const hex = quad
    ? bare.slice(0, quad.index) +
      [
        [quad[1], quad[2]],
        [quad[3], quad[4]],
      ]
        .map(([a, b]) => ((Number(a) << 8) | Number(b)).toString(16))
        .join(':')
    : bare;
  const [head = '', tail] = hex.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}

/**
 * Counts failed authentications per address in fixed windows and says when an address must wait.
 * Memory is bounded: at most `maxAddresses` windows are kept, each forgotten when it ends.
 */
export class AuthThrottle {
  private readonly failures: LRUCache<string, { count: number }>;

  constructor(readonly options: AuthThrottleOptions = defaultAuthThrottle) {
    this.failures = new LRUCache({ max: options.maxAddresses, ttl: options.windowMs, noUpdateTTL: true });
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  waitSeconds(ip: string): number {
    const key = addressKey(ip);
    const seen = this.failures.get(key);
    if (!seen || seen.count < this.options.maxFailures) return 0;
    return Math.max(1, Math.ceil(this.failures.getRemainingTTL(key) / 1000));
  }

  recordFailure(ip: string): void {
    const key = addressKey(ip);
    const seen = this.failures.get(key);
    if (seen) seen.count += 1;
    else this.failures.set(key, { count: 1 });
  }

  /** A right credential from the address ends its window: a typo or two are forgotten. */
  forgive(ip: string): void {
    this.failures.delete(addressKey(ip));
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}
