import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';

/** The smallest projection with inserts, updates and deletes: counters that changes add to or remove. */
export interface Counter extends VersionedDocument {
  total: number;
}
export type Change = { id: string; add?: number; remove?: boolean };

export const counters: DocumentProjection<Change, Counter> = {
  documentId: (change) => change.id,
  evolve: (current, change, position) =>
    change.remove ? null : { _id: change.id, total: (current?.total ?? 0) + (change.add ?? 0), position },
};
