import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times; 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user and system) a process has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // The command name, in parentheses, may hold spaces: count fields after its closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by the processes of a process group that are still running (the broker
 * runs under a supervising shell, in a group of its own).
 */
export function processGroupCpuSeconds(pgid: number | undefined): number {
  if (pgid === undefined) return 0;
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) seconds += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return seconds;
}

/** The machine's busy and total CPU seconds so far, over all cores. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/** What a process and the machine spent while `work` ran. */
export async function cpuDuring<T>(
  pid: number | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; processSeconds: number; machineBusyShare: number }> {
  const processBefore = processCpuSeconds(pid);
  const machineBefore = machineCpuSeconds();
  const result = await work();
  const machineAfter = machineCpuSeconds();
  const total = machineAfter.total - machineBefore.total;
  return {
    result,
    processSeconds: processCpuSeconds(pid) - processBefore,
    machineBusyShare: total > 0 ? (machineAfter.busy - machineBefore.busy) / total : 0,
  };
}
