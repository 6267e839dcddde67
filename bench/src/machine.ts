import { cpus, totalmem } from 'node:os';
import type { MachineInfo } from './results';

export function machineInfo(store: string): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    store,
  };
}
