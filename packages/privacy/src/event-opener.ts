import type { CloudEvent } from '@wxp/contracts';
import {
  carriesPersonalData,
  openEvent,
  openEventOnRead,
  personalPathsOf,
  UnsealableEventError,
  type OpenedEvent,
} from './personal-fields';
import { ERASED_VALUE } from './sealed-value';

function isWrittenAsErased(event: CloudEvent): boolean {
  const data = event.data as Record<string, unknown>;
  const fields = (data.fields ?? {}) as Record<string, unknown>;
  return personalPathsOf(event).every(
    (path) => (path.startsWith('fields.') ? fields[path.slice(7)] : data[path]) === ERASED_VALUE,
  );
}

/** Where an opener finds users' data keys: the store (DataKeyStore), or nowhere. */
export interface DataKeySource {
  /** Each id's key, or null when it is gone. */
  keysByIds(ids: Iterable<string>): Promise<Map<string, Buffer | null>>;
  /** Stops trusting what is held of a user. */
  forget(pseudonym: string): void;
}

/**
 * No keys at all: every user reads as erased. For what must hold nothing personal because nothing
 * would erase it later (a read model's snapshot).
 */
export const NO_DATA_KEYS: DataKeySource = {
  keysByIds: async (ids) => new Map([...ids].map((id) => [id, null])),
  forget: () => undefined,
};

/** Events after which a user's keys may be gone: a process stops trusting what it holds of them. */
const erasingTypes = new Set(['wechat.user.unsubscribed', 'wechat.user.erased']);

/**
 * Opens sealed events for a reader: one store read for the keys a batch lacks, personal fields in
 * clear, users whose key is gone marked as erased. What other teams use to read the topics.
 */
export class EventOpener {
  /**
   * Time spent decrypting so far, key reads not included: what sealing costs a reader in CPU. It
   * is measured without awaiting anything, so batches opened side by side do not count twice.
   */
  openingSeconds = 0;

  private readonly openOnRead: boolean;

  /**
   * `openOnRead`: personal values are decrypted when a handler first reads them (`openEventOnRead`),
   * so events whose personal fields nobody reads cost no decryption; tampering then throws where
   * the value is read, inside the handler. Default: everything is opened here.
   */
  constructor(
    private readonly keys: DataKeySource,
    options: { openOnRead?: boolean } = {},
  ) {
    this.openOnRead = options.openOnRead ?? false;
  }

  async open<E extends CloudEvent>(events: readonly E[]): Promise<OpenedEvent<E>[]> {
    const ids: string[] = [];
    for (const event of events) {
      if (!carriesPersonalData(event.type)) continue;
      if (event.datakeyid) ids.push(event.datakeyid);
    }
    const keys = ids.length > 0 ? await this.keys.keysByIds(ids) : new Map<string, Buffer | null>();
    const started = process.hrtime.bigint();
    const spent = (seconds: number) => (this.openingSeconds += seconds);
    const openOne = (event: E, key: Buffer | null) =>
      this.openOnRead ? openEventOnRead(event, key, spent) : openEvent(event, key);
    const opened = events.map((event) => {
      if (!carriesPersonalData(event.type)) return { event, erased: false };
      // Written after the user's key had gone (a late event, a migrated unfollower): nothing to open.
      // Anything else without a key has personal data in clear, which the topic must never hold.
      if (!event.datakeyid) {
        if (!isWrittenAsErased(event))
          throw new UnsealableEventError(`${event.type} ${event.id}: personal fields are not sealed`);
        return openOne(event, null);
      }
      const key = keys.get(event.datakeyid);
      if (key === undefined) throw new UnsealableEventError(`${event.type} ${event.id}: key not looked up`);
      return openOne(event, key);
    });
    if (!this.openOnRead) this.openingSeconds += Number(process.hrtime.bigint() - started) / 1e9;
    for (const event of events)
      if (erasingTypes.has(event.type) && event.subject) this.keys.forget(event.subject);
    return opened;
  }
}
