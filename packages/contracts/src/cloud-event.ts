/**
 * The CloudEvents 1.0 envelope in structured mode. Only producer and consumer wrappers touch it;
 * projections see the typed payload.
 */
export interface CloudEvent<TType extends string = string, TData = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: TType;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  data: TData;
  /** Extension: the id of the event or request this one belongs to. */
  correlationid?: string;
  /** Extension: the id of the event that caused this one. */
  causationid?: string;
  /** Extension: the user's data key the personal fields are sealed with (events and profiles topics). */
  datakeyid?: string;
  /**
   * Extension, on pushes: how the gateway took the account to be answered when the push came,
   * `passive` (inside the HTTP answer) or `custom` (the customer-service API, the menu responder).
   * A replier goes by it rather than by its own reading of the accounts file, which may be changed
   * between the two: one reply per push across both channels.
   */
  replychannel?: 'passive' | 'custom';
}

export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

/** Kafka header names written with every event, so consumers can filter without parsing. */
export const EventHeaders = {
  contentType: 'content-type',
  type: 'ce_type',
  id: 'ce_id',
} as const;

export function sourceOfApp(appId: string): string {
  return `/wechat/${appId}`;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

const requiredStrings = ['id', 'source', 'type', 'time', 'dataschema'] as const;

/** Parses a Kafka value into an envelope, checking only what the envelope promises. */
export function parseEnvelope(value: Buffer | string): CloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    // The parser's message quotes the text around the fault: a log or a dead letter's header must not.
    throw new EnvelopeError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EnvelopeError('not a JSON object');
  }
  const candidate = parsed as Record<string, unknown>;
  if (candidate.specversion !== '1.0') {
    throw new EnvelopeError('specversion must be "1.0"');
  }
  for (const field of requiredStrings) {
    if (typeof candidate[field] !== 'string' || candidate[field] === '') {
      throw new EnvelopeError(`${field} must be a non-empty string`);
    }
  }
  if (!('data' in candidate)) throw new EnvelopeError('data is missing');
  return candidate as unknown as CloudEvent;
}
