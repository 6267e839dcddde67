import type { Collection } from 'mongodb';
import {
  foldEvents,
  isDefined,
  loadDocuments,
  writeDocuments,
  type DocumentProjection,
  type PositionedEvent,
  type Transition,
  type VersionedDocument,
} from './document-projection';

export interface PartitionedEvent<E> extends PositionedEvent<E> {
  partition: number;
}

/** A primary projection, and aggregates derived from the changes it makes. */
export interface DerivedProjectionSpec<E, D extends VersionedDocument, C, A extends VersionedDocument> {
  primary: { collection: Collection<D>; projection: DocumentProjection<E, D> };
  derived: {
    collection: Collection<A>;
    projection: DocumentProjection<C, A>;
    /** What one transition of a primary document means for the aggregates, if anything. */
    changeOf(transition: Transition<E, D>, partition: number): C | undefined;
  };
}

/**
 * Applies a batch (of one partition or several) to a primary read model (users, say) and to
 * aggregates derived from its transitions (counts). The aggregates are written first: if the process
 * dies between the two writes, the redelivered events find the primary documents unchanged, derive
 * the same changes, and the aggregates skip what they already hold. Neither loses nor doubles anything.
 */
export async function projectWithDerived<E, D extends VersionedDocument, C, A extends VersionedDocument>(
  spec: DerivedProjectionSpec<E, D, C, A>,
  events: readonly PartitionedEvent<E>[],
): Promise<void> {
  const { primary, derived } = spec;
  const ids = [...new Set(events.map((e) => primary.projection.documentId(e.event)).filter(isDefined))];
  const loaded = await loadDocuments(primary.collection, ids);
  const folded = foldEvents(primary.projection, loaded, events);
  // Offsets repeat across partitions: an event's partition is found by the event itself.
  const partitionOf = new Map(events.map((e) => [e.event, e.partition]));
  const changes = folded.transitions.flatMap((transition): PositionedEvent<C>[] => {
    const change = derived.changeOf(transition, partitionOf.get(transition.event) ?? 0);
    return change === undefined ? [] : [{ position: transition.position, event: change }];
  });
  if (changes.length > 0) {
    const aggregateIds = [
      ...new Set(changes.map((c) => derived.projection.documentId(c.event)).filter(isDefined)),
    ];
    const aggregates = await loadDocuments(derived.collection, aggregateIds);
    await writeDocuments(
      derived.collection,
      aggregates,
      foldEvents(derived.projection, aggregates, changes).documents,
    );
  }
  await writeDocuments(primary.collection, loaded, folded.documents);
}
