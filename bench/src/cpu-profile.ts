import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface CostLine {
  /** A function with where it lives, or a package / area. */
  name: string;
  selfPercent: number;
}

function where(url: string, root: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (inModules?.[1]) return inModules[1];
  if (path.startsWith('node:')) return path;
  return relative(root, path);
}

/**
 * The top self-time costs of a .cpuprofile written by `node --cpu-prof`: by function, and by area
 * (the npm package, the node: module, or this repository's file). Idle and GC are kept: they say how
 * busy the process was and what allocation cost.
 */
export function topCosts(
  file: string,
  root: string,
  count = 12,
): { functions: CostLine[]; areas: CostLine[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = profile.samples.length || 1;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = where(url, root);
    const name = `${functionName || '(anonymous)'} ${url ? `${area}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + n);
    byArea.set(area, (byArea.get(area) ?? 0) + n);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, n]) => ({ name, selfPercent: (100 * n) / total }));
  return { functions: top(byFunction), areas: top(byArea) };
}
