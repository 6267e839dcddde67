import type { Collection } from 'mongodb';
import { isInfrastructureOutage } from '@wxp/kafka';
import {
  ConcurrentWriteError,
  MAX_REMEMBERED_EVENTS,
  REMEMBERED_EVENTS,
  foldEvents,
  writeDocuments,
  type DocumentProjection,
  type VersionedDocument,
} from '../src';

interface Tally extends VersionedDocument {
  count: number;
}
interface Tick {
  id: string;
  user: string;
  at: number;
}

const tally: DocumentProjection<Tick, Tally> = {
  documentId: (tick) => tick.user,
  eventId: (tick) => tick.id,
  eventTime: (tick) => tick.at,
  evolve: (current, _tick, position) => ({ _id: 'u', count: (current?.count ?? 0) + 1, position }),
};

/** Folds `ticks` one batch each, at offsets 1, 2, …, as a consumer reading them live would. */
function foldOneByOne(ticks: Tick[]): Tally | null {
  let document: Tally | null = null;
  ticks.forEach((tick, offset) => {
    const { documents } = foldEvents(tally, new Map(document ? [['u', document]] : []), [
      { position: offset + 1, event: tick },
    ]);
    document = documents.get('u') ?? null;
  });
  return document;
}

describe('a document recognising an event stored twice', () => {
  it('recognises it after many later events of the same minutes', () => {
    const t0 = 1_700_000_000;
    const later = Array.from({ length: 20 }, (_, n) => ({ id: `click-${n}`, user: 'u', at: t0 + 10 + n }));
    const scan = { id: 'scan', user: 'u', at: t0 };
    // The second copy of the scan reaches the log after the user's twenty clicks.
    expect(foldOneByOne([scan, ...later, scan])?.count).toBe(21);
  });

  it('keeps the last few events whatever their age, and at most MAX_REMEMBERED_EVENTS', () => {
    const t0 = 1_700_000_000;
    const old = Array.from({ length: 3 }, (_, n) => ({ id: `old-${n}`, user: 'u', at: t0 + n }));
    const hourLater = Array.from({ length: REMEMBERED_EVENTS - 1 }, (_, n) => ({
      id: `new-${n}`,
      user: 'u',
      at: t0 + 3600 + n,
    }));
    const document = foldOneByOne([...old, ...hourLater])!;
    expect(document.recentEvents).toHaveLength(REMEMBERED_EVENTS);
    const burst = Array.from({ length: 200 }, (_, n) => ({ id: `burst-${n}`, user: 'u', at: t0 + n }));
    expect(foldOneByOne(burst)!.recentEvents).toHaveLength(MAX_REMEMBERED_EVENTS);
  });

  it('still reads what documents remembered before events carried their time', () => {
    const { documents } = foldEvents({ ...tally, eventTime: undefined }, new Map(), [
      { position: 1, event: { id: 'a', user: 'u', at: 1 } },
    ]);
    const legacy = documents.get('u')!;
    expect(legacy.recentEvents).toEqual([expect.stringMatching(/^[\w-]{8}$/)]);
    const again = foldEvents(tally, new Map([['u', legacy]]), [
      { position: 2, event: { id: 'a', user: 'u', at: 1 } },
    ]);
    expect(again.documents.get('u')).toBe(legacy);
  });
});

describe('a write that finds a document changed since it was read', () => {
  it('fails the batch with a ConcurrentWriteError, which the consumer retries without limit', async () => {
    const collection = {
      collectionName: 'tallies',
      bulkWrite: async (operations: unknown[]) => ({ matchedCount: 0, deletedCount: 0, operations }),
      insertMany: async (documents: unknown[]) => ({ insertedCount: documents.length }),
    } as unknown as Collection<Tally>;
    const read = { _id: 'u', count: 1, position: 10 };
    const folded = { _id: 'u', count: 3, position: 12 };
    const failure = writeDocuments(collection, new Map([['u', read]]), new Map([['u', folded]]));
    await expect(failure).rejects.toBeInstanceOf(ConcurrentWriteError);
    const error = await failure.catch((e: unknown) => e);
    expect(isInfrastructureOutage(error)).toBe(true);
  });
});
