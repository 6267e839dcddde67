import type { CloudEvent } from '@wxp/contracts';
import { ERASED_VALUE, isSealedValue, personalPathsOf } from '@wxp/privacy';

export type ColumnKind = 'string' | 'int32' | 'int64' | 'float64' | 'boolean' | 'timestamp';

/** A value of a row: timestamps are milliseconds since the epoch, int64 values numbers (offsets stay below 2^53). */
export type Cell = string | number | boolean | null;
/** One event's values, in the order of `columns`: arrays, not objects, as millions go through. */
export type Row = Cell[];

export interface Column {
  name: string;
  kind: ColumnKind;
  /** Where the value is in the event's data, first present wins; `fields.X` is the push's field X. */
  paths?: readonly string[];
  /** Turns a value found at a path into the column's; undefined when it does not fit. */
  convert?: (value: unknown) => Cell | undefined;
}

const secondsToMs = (value: unknown) => (Number.isInteger(value) ? (value as number) * 1000 : undefined);
const zeroOne = (value: unknown) => (value === 1 ? true : value === 0 ? false : undefined);
const integerList = (value: unknown) =>
  Array.isArray(value) && value.every((v) => Number.isInteger(v)) ? value.join(',') : undefined;

/**
 * Every column of an export, in file order; the set never depends on what the window holds, so
 * files of different windows load into one table. Envelope and position first, then what the
 * types carry: a column a type has not is null.
 */
export const columns: readonly Column[] = [
  { name: 'topic', kind: 'string' },
  { name: 'partition', kind: 'int32' },
  { name: 'offset', kind: 'int64' },
  { name: 'loggedAt', kind: 'timestamp' },
  { name: 'id', kind: 'string' },
  { name: 'type', kind: 'string' },
  { name: 'time', kind: 'timestamp' },
  { name: 'appId', kind: 'string' },
  { name: 'pseudonym', kind: 'string' },
  { name: 'openId', kind: 'string', paths: ['openId'] },
  { name: 'unionId', kind: 'string', paths: ['unionId'] },
  { name: 'msgType', kind: 'string', paths: ['msgType', 'fields.MsgType'] },
  { name: 'event', kind: 'string', paths: ['event', 'fields.Event'] },
  { name: 'eventKey', kind: 'string', paths: ['fields.EventKey'] },
  { name: 'scene', kind: 'string', paths: ['scene', 'qrSceneStr', 'qrScene'] },
  { name: 'sceneId', kind: 'int64', paths: ['sceneId'] },
  { name: 'ticket', kind: 'string', paths: ['ticket'] },
  { name: 'menuKey', kind: 'string', paths: ['key'] },
  { name: 'menuId', kind: 'string', paths: ['menuId'] },
  { name: 'url', kind: 'string', paths: ['url'] },
  { name: 'pagePath', kind: 'string', paths: ['pagePath'] },
  { name: 'msgId', kind: 'string', paths: ['msgId', 'fields.MsgId'] },
  { name: 'content', kind: 'string', paths: ['fields.Content'] },
  { name: 'title', kind: 'string', paths: ['title'] },
  { name: 'mediaId', kind: 'string', paths: ['mediaId'] },
  { name: 'format', kind: 'string', paths: ['format'] },
  { name: 'recognition', kind: 'string', paths: ['recognition'] },
  { name: 'latitude', kind: 'float64', paths: ['latitude'] },
  { name: 'longitude', kind: 'float64', paths: ['longitude'] },
  { name: 'precision', kind: 'float64', paths: ['precision'] },
  { name: 'label', kind: 'string', paths: ['label', 'poiName'] },
  { name: 'scanType', kind: 'string', paths: ['scanType'] },
  { name: 'scanResult', kind: 'string', paths: ['scanResult'] },
  { name: 'kfAccount', kind: 'string', paths: ['kfAccount', 'toKfAccount'] },
  { name: 'status', kind: 'string', paths: ['status'] },
  { name: 'causedBy', kind: 'string', paths: ['causedBy', 'replyTo'] },
  { name: 'replyRule', kind: 'string', paths: ['rule'] },
  { name: 'replyChannel', kind: 'string', paths: ['channel'] },
  { name: 'replyType', kind: 'string', paths: ['messageType'] },
  { name: 'subscribed', kind: 'boolean', paths: ['subscribe'], convert: zeroOne },
  { name: 'subscribeTime', kind: 'timestamp', paths: ['subscribeTime'], convert: secondsToMs },
  { name: 'subscribeScene', kind: 'string', paths: ['subscribeScene'] },
  { name: 'language', kind: 'string', paths: ['language'] },
  { name: 'tags', kind: 'string', paths: ['tags'], convert: integerList },
  { name: 'tagName', kind: 'string', paths: ['tagName'] },
  { name: 'tagId', kind: 'int32', paths: ['tagId'] },
  { name: 'errcode', kind: 'int32', paths: ['errcode'] },
  { name: 'errmsg', kind: 'string', paths: ['errmsg'] },
];

/** Where an event came from on the log. */
export interface LogPosition {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp: when the event reached the log. */
  loggedAt: number;
}

/**
 * How far the personal fields of an event may go into the row. `sealed`: the event as on the topic,
 * nothing personal leaves; `opened`: opened with the user's key, in clear; `erased`: the key is
 * gone, nothing personal is left to show.
 */
export type Disclosure = 'sealed' | 'opened' | 'erased';

/** The columns filled from the event's data, and the paths each may read for one type. */
type Plan = { index: number; column: Column; paths: readonly string[] }[];

const dataColumns = columns.flatMap((column, index) => (column.paths ? [{ index, column }] : []));
const plans = new Map<string, { clear: Plan; all: Plan }>();

/**
 * Which of the columns' paths are personal depends on the type alone (a push's fields are all
 * personal but the account's own), so it is worked out once per type, by asking the privacy
 * package about an event of that type holding every path.
 */
function planOf(type: string, personalToo: boolean): Plan {
  let plan = plans.get(type);
  if (!plan) {
    const fields: Record<string, unknown> = {};
    const data: Record<string, unknown> = { fields };
    for (const { column } of dataColumns)
      for (const path of column.paths!) {
        if (path.startsWith('fields.')) fields[path.slice('fields.'.length)] = 1;
        else data[path] = 1;
      }
    const personal = new Set(personalPathsOf({ type, data } as CloudEvent));
    plan = {
      clear: dataColumns.map(({ index, column }) => ({
        index,
        column,
        paths: column.paths!.filter((path) => !personal.has(path)),
      })),
      all: dataColumns.map(({ index, column }) => ({ index, column, paths: column.paths! })),
    };
    plans.set(type, plan);
  }
  return personalToo ? plan.all : plan.clear;
}

function read(data: Record<string, unknown>, path: string): unknown {
  if (!path.startsWith('fields.')) return data[path];
  const fields = data.fields;
  return typeof fields === 'object' && fields !== null
    ? (fields as Record<string, unknown>)[path.slice('fields.'.length)]
    : undefined;
}

function cellOf(column: Column, value: unknown): Cell | undefined {
  if (value === undefined || value === null) return undefined;
  // Whatever is still sealed (or written as erased) is never data for an analyst: not even its length.
  if (typeof value === 'string' && (isSealedValue(value) || value === ERASED_VALUE)) return undefined;
  if (column.convert) return column.convert(value);
  switch (column.kind) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
    case 'int32':
    case 'int64':
      return Number.isSafeInteger(value) ? (value as number) : undefined;
    case 'float64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'timestamp':
      return Number.isFinite(value) ? (value as number) : undefined;
  }
}

/**
 * The row of one event: the event as on the topic (`sealed`), or opened with its user's key. Only
 * with `opened` is a personal place read at all; an opener that decrypts on read then opens only
 * the fields a column takes.
 */
export function rowOf(position: LogPosition, event: CloudEvent, disclosure: Disclosure): Row {
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
    string,
    unknown
  >;
  const time = Date.parse(event.time);
  // The envelope columns come first, in this order.
  const row: Row = [
    position.topic,
    position.partition,
    position.offset,
    position.loggedAt,
    event.id,
    event.type,
    Number.isFinite(time) ? time : null,
    typeof data.appId === 'string' ? data.appId : null,
    event.subject ?? null,
  ];
  row.length = columns.length;
  for (const { index, column, paths } of planOf(event.type, disclosure === 'opened')) {
    let cell: Cell | undefined;
    for (const path of paths) {
      cell = cellOf(column, read(data, path));
      if (cell !== undefined) break;
    }
    row[index] = cell ?? null;
  }
  return row;
}

/** The row with its columns' names: for reading rows in tests and tools. */
export function recordOf(row: Row): Record<string, Cell> {
  return Object.fromEntries(columns.map((column, i) => [column.name, row[i] ?? null]));
}

/** A row from named values; the columns not named are null. */
export function rowFrom(record: Record<string, Cell>): Row {
  return columns.map((column) => record[column.name] ?? null);
}
