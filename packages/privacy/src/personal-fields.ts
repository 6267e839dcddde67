import { sealedPropertiesOf, wechatEventDefinitions, type CloudEvent } from '@wxp/contracts';
import { ERASED_VALUE, isSealedValue, openValue, sealValue } from './sealed-value';

/**
 * Push fields that are the account's own or what analytics need without identifying anyone; every
 * other field of `data.fields` may carry what a user typed, sent or where they were, and is sealed.
 */
export const CLEAR_PUSH_FIELDS: ReadonlySet<string> = new Set([
  'ToUserName',
  'CreateTime',
  'MsgType',
  'Event',
  'EventKey',
  'Ticket',
  'MenuId',
  'MsgId',
  'MsgID',
]);

/**
 * The personal top-level fields of each type that carries any: `openId` of every push's event, the
 * profile's ids, and whatever a type declares sealed (see `Sealed` in @wxp/contracts).
 */
const personalDataFields: Readonly<Record<string, readonly string[]>> = {
  'wechat.profile.fetched': ['openId', 'unionId', 'remark'],
  'wechat.profile.fetch_failed': ['openId'],
  'wechat.profile.erased': ['openId'],
  ...Object.fromEntries(
    wechatEventDefinitions
      // The platform's own events (an erasure, a reply) name no user's openId and carry nothing of theirs.
      .filter((definition) => 'openId' in (definition.schema.properties as object))
      .map((definition) => [definition.type, ['openId', ...sealedPropertiesOf(definition.schema)]]),
  ),
};

/** Event types whose `data.fields` holds a push, sealed field by field. */
const withPushFields = new Set(
  Object.keys(personalDataFields).filter(
    (type) => type.startsWith('wechat.') && !type.startsWith('wechat.profile.'),
  ),
);

/** Whether events of this type carry personal data (and so a data key id). */
export function carriesPersonalData(type: string): boolean {
  return type in personalDataFields;
}

/** The personal places of one event: `openId`, `fields.Content`, …; values absent are left out. */
export function personalPathsOf(event: CloudEvent): string[] {
  const data = event.data as Record<string, unknown>;
  const paths = (personalDataFields[event.type] ?? []).filter((name) => data[name] !== undefined);
  if (withPushFields.has(event.type) && typeof data.fields === 'object' && data.fields !== null) {
    for (const name of Object.keys(data.fields))
      if (!CLEAR_PUSH_FIELDS.has(name)) paths.push(`fields.${name}`);
  }
  return paths;
}

function read(data: Record<string, unknown>, path: string): unknown {
  if (!path.startsWith('fields.')) return data[path];
  return (data.fields as Record<string, unknown>)[path.slice('fields.'.length)];
}

/** The object a path's value lives in, and its name there. */
function placeOf(data: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  return path.startsWith('fields.')
    ? [data.fields as Record<string, unknown>, path.slice('fields.'.length)]
    : [data, path];
}

/** A copy of the event's data (and of its fields) that can be changed without touching the event. */
function copyOfData(event: CloudEvent): Record<string, unknown> {
  const data = { ...(event.data as Record<string, unknown>) };
  if (typeof data.fields === 'object' && data.fields !== null)
    data.fields = { ...(data.fields as Record<string, unknown>) };
  return data;
}

function withValues(
  event: CloudEvent,
  paths: string[],
  valueOf: (path: string, value: unknown) => unknown,
): Record<string, unknown> {
  const data = copyOfData(event);
  for (const path of paths) {
    const value = valueOf(path, read(data, path));
    const [target, name] = placeOf(data, path);
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  return data;
}

const associatedData = (pseudonym: string, eventId: string, path: string) =>
  `${pseudonym}\n${eventId}\n${path}`;

export class UnsealableEventError extends Error {
  override readonly name = 'UnsealableEventError';
}

function pseudonymOfEvent(event: CloudEvent): string {
  if (!event.subject) throw new UnsealableEventError(`${event.type} ${event.id} has no subject (pseudonym)`);
  return event.subject;
}

/** The event with every personal field sealed under the user's data key. `subject` must be the pseudonym. */
export function sealEvent<E extends CloudEvent>(event: E, key: { id: string; key: Buffer }): E {
  if (!carriesPersonalData(event.type)) return event;
  const pseudonym = pseudonymOfEvent(event);
  const data = withValues(event, personalPathsOf(event), (path, value) =>
    sealValue(key.key, associatedData(pseudonym, event.id, path), value),
  );
  return { ...event, datakeyid: key.id, data } as E;
}

/** The event written for a user whose key is already gone: personal fields say so and nothing else. */
export function sealEventAsErased<E extends CloudEvent>(event: E): E {
  if (!carriesPersonalData(event.type)) return event;
  pseudonymOfEvent(event);
  const data = withValues(event, personalPathsOf(event), () => ERASED_VALUE);
  const { datakeyid: _gone, ...rest } = event;
  return { ...rest, data } as E;
}

export interface OpenedEvent<E extends CloudEvent = CloudEvent> {
  /** With personal fields in clear; for an erased user, `openId` is '' and the other personal fields are absent. */
  event: E;
  /** The user's data key is gone: nothing personal of this event can be read, by anyone, again. */
  erased: boolean;
}

/**
 * Opens one sealed event with its key (`null`: the key was destroyed). Values that do not open under
 * the right key are tampering or corruption, and throw; a destroyed key is normal and reads as erased.
 */
export function openEvent<E extends CloudEvent>(event: E, key: Buffer | null): OpenedEvent<E> {
  return opened(event, key, (target, name, open) => {
    target[name] = open();
  });
}

/**
 * Like `openEvent`, but each personal value is decrypted (and its tag checked) when it is first
 * read: a projection that reads no personal field of an event, like most of a replay's, pays
 * nothing for it. A value that does not open throws where it is read. Whether the user is erased,
 * and whether every personal field is sealed at all, are still known before anything is read.
 * `spent` is told the seconds each decryption took.
 */
export function openEventOnRead<E extends CloudEvent>(
  event: E,
  key: Buffer | null,
  spent?: (seconds: number) => void,
): OpenedEvent<E> {
  return opened(event, key, (target, name, open) => {
    // Once read (or written), the field is a plain value again.
    const settle = (value: unknown) => {
      Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
      return value;
    };
    Object.defineProperty(target, name, {
      enumerable: true,
      configurable: true,
      get() {
        const started = process.hrtime.bigint();
        const value = open();
        spent?.(Number(process.hrtime.bigint() - started) / 1e9);
        return settle(value);
      },
      set: settle,
    });
  });
}

/** Where `openEvent` and `openEventOnRead` differ: what a sealed value becomes in the opened event. */
type PlaceOpened = (target: Record<string, unknown>, name: string, open: () => unknown) => void;

function opened<E extends CloudEvent>(event: E, key: Buffer | null, place: PlaceOpened): OpenedEvent<E> {
  if (!carriesPersonalData(event.type)) return { event, erased: false };
  const pseudonym = pseudonymOfEvent(event);
  const paths = personalPathsOf(event);
  const erased =
    key === null || paths.some((path) => read(event.data as Record<string, unknown>, path) === ERASED_VALUE);
  if (erased) {
    const data = withValues(event, paths, (path) => (path === 'openId' ? '' : undefined));
    return { event: { ...event, data } as E, erased: true };
  }
  const data = copyOfData(event);
  for (const path of paths) {
    const value = read(data, path);
    if (!isSealedValue(value))
      throw new UnsealableEventError(`${event.type} ${event.id}: ${path} is not sealed`);
    const [target, name] = placeOf(data, path);
    place(target, name, () => openValue(key, associatedData(pseudonym, event.id, path), value));
  }
  return { event: { ...event, data } as E, erased: false };
}
