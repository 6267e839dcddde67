import { randomFillSync } from 'node:crypto';

// Each call of randomBytes costs about 10 µs on these machines whatever its size, and a follow
// needs four (a key id, the key, two nonces); drawing them from a larger fill of the same CSPRNG
// costs a fraction of that.
const POOL_BYTES = 8192;

let pool = Buffer.alloc(0);
let offset = 0;

/** Random bytes from the operating system's CSPRNG, each byte handed out once and then wiped. */
export function secureRandomBytes(size: number): Buffer {
  if (size > POOL_BYTES) return randomFillSync(Buffer.alloc(size));
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  // Keys are drawn from here too: what was handed out does not stay behind in the pool.
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
