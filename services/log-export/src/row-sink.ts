import type { EventRows, LoggedEvent, RowCounts } from './event-rows';
import type { RowWriter } from './row-writer';

export interface SinkResult extends RowCounts {
  bytes: number;
}

/** Where the candidate messages of each batch go to become rows in a file. */
export interface RowSink {
  handle(topic: string, partition: number, candidates: LoggedEvent[]): Promise<void>;
  /** Rows so far, for the progress bar. */
  readonly rows: number;
  finish(): Promise<SinkResult>;
  abort(): Promise<void>;
}

/** Rows made and written in this thread: for standard output, which a worker cannot flush in order. */
export class InlineSink implements RowSink {
  constructor(
    private readonly maker: EventRows,
    private readonly writer: RowWriter,
  ) {}

  get rows(): number {
    return this.maker.counts.rows;
  }

  async handle(topic: string, partition: number, candidates: LoggedEvent[]): Promise<void> {
    await this.writer.write(await this.maker.rowsOf(topic, partition, candidates));
  }

  async finish(): Promise<SinkResult> {
    const { bytes } = await this.writer.close();
    return { ...this.maker.counts, bytes };
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}
