import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this module whose package.json declares workspaces. */
export function repoRoot(start = __dirname): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
      if (parsed.workspaces) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no workspace root above ${start}`);
    dir = parent;
  }
}

/** Downloads and builds that later runs reuse: the Kafka classpath and the FerretDB binary. */
export function cacheDir(): string {
  return process.env.WXP_CACHE_DIR ?? join(repoRoot(), '.cache');
}

export function defaultDataDir(): string {
  return join(repoRoot(), '.data');
}
