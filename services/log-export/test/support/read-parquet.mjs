// Reads a Parquet file with hyparquet, an implementation independent of the writer (arrow-rs), and
// prints its schema, row groups and rows as JSON: what an analyst's tool would see.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const bytes = readFileSync(process.argv[2]);
const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const metadata = parquetMetadata(file);
const rows = await parquetReadObjects({ file, compressors });
const schema = metadata.schema.slice(1).map((element) => ({
  name: element.name,
  type: element.type,
  logical: element.logical_type?.type ?? element.converted_type ?? null,
}));
const codecs = [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))];
process.stdout.write(
  JSON.stringify({ schema, rowGroups: metadata.row_groups.length, codecs, rows }, (_key, value) =>
    typeof value === 'bigint' ? Number(value) : value,
  ),
);
