import { EnvelopeError, EventHeaders, parseEnvelope, type CloudEvent } from '@wxp/contracts';
import { carriesPersonalData, type EventOpener } from '@wxp/privacy';
import type { KafkaMessage } from 'kafkajs';
import { rowOf, type Disclosure, type Row } from './columns';

/** A message of the window that may be one of the export's events, as the row maker needs it. */
export interface LoggedEvent {
  offset: number;
  /** The record's timestamp: when it reached the log. */
  loggedAt: number;
  value: Uint8Array;
}

export interface WindowFilter {
  appId: string;
  since: number;
  until: number;
  /** Empty: every type. */
  types: readonly string[];
}

function headerText(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/**
 * What of a batch can be the export's, without parsing: stamped within the window, of an asked
 * type by its header, and naming the account. An event of the account names it (source and
 * data.appId); appIds are letters, digits, _ and -, which JSON never escapes.
 */
export function candidatesOf(messages: readonly KafkaMessage[], filter: WindowFilter): LoggedEvent[] {
  const appIdBytes = Buffer.from(filter.appId);
  const types = new Set(filter.types);
  const found: LoggedEvent[] = [];
  for (const message of messages) {
    const loggedAt = Number(message.timestamp);
    // The time index finds the first offset at or after a time; stamps need not rise with offsets.
    if (!(loggedAt >= filter.since && loggedAt < filter.until) || !message.value) continue;
    const type = types.size > 0 ? headerText(message, EventHeaders.type) : undefined;
    if (type !== undefined && !types.has(type)) continue;
    if (!message.value.includes(appIdBytes)) continue;
    found.push({ offset: Number(message.offset), loggedAt, value: message.value });
  }
  return found;
}

export interface RowCounts {
  rows: number;
  /** Rows of users whose key is destroyed (with decryption): their pseudonym only. */
  erased: number;
  /** Messages that are not CloudEvents: counted, never shown. */
  unreadable: number;
}

const appIdOf = (event: CloudEvent) => {
  const data = event.data as { appId?: unknown } | null;
  return typeof data?.appId === 'string' ? data.appId : undefined;
};

/**
 * Turns candidate messages into rows: parsed, checked for type and account, opened when an opener
 * is given (personal fields never leave the topic otherwise, in clear or sealed), one row each.
 */
export class EventRows {
  readonly counts: RowCounts = { rows: 0, erased: 0, unreadable: 0 };
  private readonly types: Set<string>;

  constructor(
    private readonly filter: WindowFilter,
    private readonly opener?: EventOpener,
  ) {
    this.types = new Set(filter.types);
  }

  async rowsOf(topic: string, partition: number, candidates: readonly LoggedEvent[]): Promise<Row[]> {
    const wanted: { candidate: LoggedEvent; event: CloudEvent }[] = [];
    for (const candidate of candidates) {
      let event: CloudEvent;
      try {
        const { value } = candidate;
        event = parseEnvelope(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
        this.counts.unreadable += 1;
        continue;
      }
      if (this.types.size > 0 && !this.types.has(event.type)) continue;
      if (appIdOf(event) !== this.filter.appId) continue;
      wanted.push({ candidate, event });
    }
    if (wanted.length === 0) return [];
    const opened = this.opener ? await this.opener.open(wanted.map((w) => w.event)) : undefined;
    const rows = wanted.map(({ candidate, event }, i) => {
      const disclosure: Disclosure = !opened
        ? 'sealed'
        : opened[i]!.erased && carriesPersonalData(event.type)
          ? 'erased'
          : 'opened';
      if (disclosure === 'erased') this.counts.erased += 1;
      const position = { topic, partition, offset: candidate.offset, loggedAt: candidate.loggedAt };
      return rowOf(position, opened ? opened[i]!.event : event, disclosure);
    });
    this.counts.rows += rows.length;
    return rows;
  }
}
