import type { Kafka } from '@wxp/kafka';
import { SingleBar } from 'cli-progress';
import { candidatesOf, type WindowFilter } from './event-rows';
import type { RowSink } from './row-sink';
import { eventsIn, rangesOfWindow, readRanges } from './topic-window';

export interface LogExportOptions {
  kafka: Kafka;
  topics: readonly string[];
  filter: WindowFilter;
  /** Makes and writes the rows; finished on success, aborted on failure. */
  sink: RowSink;
  /** Where the progress bar goes; none without it. */
  progress?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

export interface ExportSummary {
  rows: number;
  /** Offsets of the window read, every account's and type's. */
  read: number;
  /** Rows of users whose key is destroyed (with decryption): their pseudonym only. */
  erased: number;
  /** Messages that are not CloudEvents: counted, never shown. */
  unreadable: number;
  bytes: number;
  seconds: number;
}

/**
 * Writes every event of one account that reached the topics within [since, until): located by the
 * broker's time index, read once, one row per event. What can be told without parsing (time,
 * type header, account) is sorted out here; the sink makes the rows.
 */
export async function exportLog(options: LogExportOptions): Promise<ExportSummary> {
  const started = Date.now();
  const { sink, filter } = options;
  let read = 0;
  let bar: SingleBar | undefined;
  try {
    const ranges = await rangesOfWindow(options.kafka, options.topics, filter.since, filter.until);
    bar = options.progress
      ? new SingleBar({
          format: 'export |{bar}| {value}/{total} events | {rows} rows | {speed}/s | ETA {eta_formatted}',
          stream: options.progress,
          noTTYOutput: true,
          notTTYSchedule: 2000,
        })
      : undefined;
    bar?.start(eventsIn(ranges), 0, { rows: 0, speed: 0 });
    const update = () =>
      bar?.update(read, {
        rows: sink.rows,
        speed: Math.round(read / Math.max(0.001, (Date.now() - started) / 1000)),
      });
    await readRanges(
      options.kafka,
      ranges,
      (topic, partition, messages) => sink.handle(topic, partition, candidatesOf(messages, filter)),
      {
        signal: options.signal,
        onOffsets: (count) => {
          read += count;
          update();
        },
      },
    );
    const result = await sink.finish();
    update();
    bar?.stop();
    return { ...result, read, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    bar?.stop();
    await sink.abort();
    throw error;
  }
}
