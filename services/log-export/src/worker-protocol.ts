import type { ExportFormat } from './export-options';
import type { LoggedEvent, RowCounts, WindowFilter } from './event-rows';

/** What the row worker is started with. Secrets stay in the process: a worker is a thread of it. */
export interface WorkerInit {
  filter: WindowFilter;
  format: ExportFormat;
  path: string;
  /** Flags of the file's creation ('wx': it must not exist). */
  flags: 'w' | 'wx';
  decrypt?: { mongoUrl: string; privacyKey: string };
}

/** One batch's candidates, packed into three buffers handed over without copying. */
export interface BatchMessage {
  kind: 'batch';
  topic: string;
  partition: number;
  positions: Float64Array;
  values: Uint8Array;
  ends: Uint32Array;
}

export type ToWorker = BatchMessage | { kind: 'finish' };

export type FromWorker =
  | { kind: 'done'; rows: number }
  | { kind: 'finished'; counts: RowCounts; bytes: number }
  | { kind: 'failed'; message: string };

export function pack(topic: string, partition: number, candidates: readonly LoggedEvent[]): BatchMessage {
  const positions = new Float64Array(candidates.length * 2);
  const ends = new Uint32Array(candidates.length);
  let size = 0;
  for (const c of candidates) size += c.value.byteLength;
  const values = new Uint8Array(size);
  let end = 0;
  candidates.forEach((c, i) => {
    positions[2 * i] = c.offset;
    positions[2 * i + 1] = c.loggedAt;
    values.set(c.value, end);
    end += c.value.byteLength;
    ends[i] = end;
  });
  return { kind: 'batch', topic, partition, positions, values, ends };
}

export function unpack(batch: BatchMessage): LoggedEvent[] {
  const candidates: LoggedEvent[] = [];
  let start = 0;
  for (let i = 0; i < batch.ends.length; i += 1) {
    const end = batch.ends[i]!;
    candidates.push({
      offset: batch.positions[2 * i]!,
      loggedAt: batch.positions[2 * i + 1]!,
      value: batch.values.subarray(start, end),
    });
    start = end;
  }
  return candidates;
}
