import {
  Bool,
  Field,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { Column, ColumnKind, Row } from './columns';

function arrowTypeOf(kind: ColumnKind): DataType {
  switch (kind) {
    case 'string':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
  }
}

export function arrowSchemaOf(columns: readonly Column[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowTypeOf(c.kind), true)));
}

const encoder = new TextEncoder();

const STRING = 0;
const INT32 = 1;
const INT64 = 2;
const FLOAT64 = 3;
const BOOLEAN = 4;
const kindCodes: Record<ColumnKind, number> = {
  string: STRING,
  int32: INT32,
  int64: INT64,
  timestamp: INT64,
  float64: FLOAT64,
  boolean: BOOLEAN,
};

/**
 * Rows gathered column by column into Arrow buffers as they come, a row at a time while it is in
 * the cache. Arrow's own builders append one value at a time through several layers of calls,
 * about six times slower for strings than filling the buffers here, and the export spends much of
 * its time on this.
 */
export class RecordBatchBuilder {
  private readonly kinds: number[];
  private validity: Uint8Array[] = [];
  private values: (Int32Array | BigInt64Array | Float64Array | Uint8Array | undefined)[] = [];
  private offsets: (Int32Array | undefined)[] = [];
  private bytes: (Uint8Array | undefined)[] = [];
  private ends: number[] = [];
  private count = 0;

  constructor(
    private readonly schema: Schema,
    columns: readonly Column[],
    private readonly capacity: number,
  ) {
    this.kinds = columns.map((c) => kindCodes[c.kind]);
    this.reset();
  }

  get length(): number {
    return this.count;
  }

  private reset(): void {
    const rows = this.capacity;
    this.count = 0;
    this.validity = this.kinds.map(() => new Uint8Array((rows + 7) >> 3));
    this.values = this.kinds.map((kind) =>
      kind === INT32
        ? new Int32Array(rows)
        : kind === INT64
          ? new BigInt64Array(rows)
          : kind === FLOAT64
            ? new Float64Array(rows)
            : kind === BOOLEAN
              ? new Uint8Array((rows + 7) >> 3)
              : undefined,
    );
    this.offsets = this.kinds.map((kind) => (kind === STRING ? new Int32Array(rows + 1) : undefined));
    this.bytes = this.kinds.map((kind) => (kind === STRING ? new Uint8Array(4096) : undefined));
    this.ends = this.kinds.map(() => 0);
  }

  append(row: Row): void {
    if (this.count >= this.capacity) throw new RangeError('the batch is full');
    const i = this.count;
    this.count += 1;
    const byte = i >> 3;
    const bit = 1 << (i & 7);
    for (let c = 0; c < this.kinds.length; c += 1) {
      const value = row[c];
      const kind = this.kinds[c];
      if (value !== null && value !== undefined) {
        this.validity[c]![byte]! |= bit;
        if (kind === STRING) this.appendString(c, value as string);
        else if (kind === INT32 || kind === FLOAT64)
          (this.values[c] as Int32Array | Float64Array)[i] = value as number;
        else if (kind === INT64) (this.values[c] as BigInt64Array)[i] = BigInt(Math.trunc(value as number));
        else if (value === true) (this.values[c] as Uint8Array)[byte]! |= bit;
      }
      if (kind === STRING) this.offsets[c]![i + 1] = this.ends[c]!;
    }
  }

  private appendString(c: number, value: string): void {
    let bytes = this.bytes[c]!;
    const end = this.ends[c]!;
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (bytes.length - end < value.length * 3) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, end + value.length * 3));
      grown.set(bytes.subarray(0, end));
      this.bytes[c] = bytes = grown;
    }
    this.ends[c] = end + encoder.encodeInto(value, bytes.subarray(end)).written;
  }

  /** The rows appended since the last call, as one record batch; the builder starts empty again. */
  finish(): RecordBatch {
    const length = this.count;
    const children = this.kinds.map((kind, c): Data => {
      const type = this.schema.fields[c]!.type as DataType;
      const validity = this.validity[c]!.subarray(0, (length + 7) >> 3);
      let nulls = length;
      for (let i = 0; i < validity.length; i += 1) nulls -= popcount(validity[i]!);
      const props = { length, nullCount: nulls, nullBitmap: validity };
      if (kind === STRING)
        return makeData({
          ...props,
          type: type as Utf8,
          valueOffsets: this.offsets[c]!.subarray(0, length + 1),
          data: this.bytes[c]!.subarray(0, this.ends[c]),
        });
      const values = this.values[c]!;
      if (kind === BOOLEAN)
        return makeData({
          ...props,
          type: type as Bool,
          data: values.subarray(0, (length + 7) >> 3) as Uint8Array,
        });
      if (kind === INT32)
        return makeData({ ...props, type: type as Int32, data: values.subarray(0, length) as Int32Array });
      if (kind === INT64)
        return makeData({ ...props, type: type as Int64, data: values.subarray(0, length) as BigInt64Array });
      return makeData({ ...props, type: type as Float64, data: values.subarray(0, length) as Float64Array });
    });
    this.reset();
    return new RecordBatch(
      this.schema,
      makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children }),
    );
  }
}

function popcount(byte: number): number {
  let bits = byte - ((byte >> 1) & 0x55);
  bits = (bits & 0x33) + ((bits >> 2) & 0x33);
  return (bits + (bits >> 4)) & 0x0f;
}
