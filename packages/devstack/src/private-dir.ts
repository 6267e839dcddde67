import { chmodSync, mkdirSync } from 'node:fs';

/**
 * A folder only its owner may enter. The data folder holds the store, the Kafka log, the accounts
 * and the keys: one made world-readable by an earlier version is closed again at every start.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
