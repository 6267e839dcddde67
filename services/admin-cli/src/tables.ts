import Table from 'cli-table3';

/** A plain table for the terminal; numbers are right-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const output = new Table({
    head,
    style: { head: [], border: [] },
    colAligns: head.map((_, i) => (rows.every((row) => typeof row[i] === 'number') ? 'right' : 'left')),
  });
  output.push(...rows.map((row) => row.map(String)));
  return output.toString();
}
