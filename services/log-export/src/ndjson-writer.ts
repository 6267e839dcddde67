import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { columns, type Row } from './columns';
import type { RowWriter } from './row-writer';

const names = columns.map((column) => column.name);
const isTimestamp = columns.map((column) => column.kind === 'timestamp');

/**
 * Rows as NDJSON: the row's non-null columns by name, in column order, timestamps as ISO 8601
 * strings; a column left out is null (most of a row is: each type fills a few columns). One
 * object per row given to the engine's own JSON.stringify, one string per batch.
 */
export function ndjsonOf(rows: readonly Row[]): Buffer {
  const lines = new Array<string>(rows.length + 1);
  for (let r = 0; r < rows.length; r += 1) {
    const row = rows[r]!;
    const line: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i += 1) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      line[names[i]!] = isTimestamp[i] ? new Date(value as number).toISOString() : value;
    }
    lines[r] = JSON.stringify(line);
  }
  lines[rows.length] = '';
  return Buffer.from(lines.join('\n'));
}

/** One JSON object per line, the non-null columns by name in the columns' order. */
export class NdjsonWriter implements RowWriter {
  private bytes = 0;

  /** `end`: the stream is the writer's to end (a file); standard output is only flushed. */
  constructor(
    private readonly stream: Writable,
    private readonly end = true,
  ) {}

  async write(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const chunk = ndjsonOf(rows);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<{ bytes: number }> {
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      if (this.end) this.stream.end(resolve);
      else this.stream.write('', () => resolve());
    });
    return { bytes: this.bytes };
  }

  async abort(): Promise<void> {
    if (this.end) this.stream.destroy();
  }
}
