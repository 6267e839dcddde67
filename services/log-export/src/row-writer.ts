import type { Row } from './columns';

/** Where rows go, in order; `close` ends the file and tells its size, `abort` drops what is unfinished. */
export interface RowWriter {
  write(rows: readonly Row[]): Promise<void>;
  close(): Promise<{ bytes: number }>;
  abort(): Promise<void>;
}
