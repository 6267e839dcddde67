import {
  foldEvents,
  type DocumentProjection,
  type PositionedEvent,
  type VersionedDocument,
} from '@wxp/mongo';

/**
 * Given events already applied, when more events arrive, then the documents are these. Every
 * event is delivered twice (the whole batch again, as after a crash before the commit), so each
 * specification also proves the projection idempotent.
 */
export function projectionSpec<E, D extends VersionedDocument>(projection: DocumentProjection<E, D>) {
  return {
    given(...history: E[]) {
      return {
        when(...events: E[]) {
          const all = [...history, ...events].map((event, i): PositionedEvent<E> => ({
            position: i + 1,
            event,
          }));
          const documents = new Map<string, D>();
          const deliver = (batch: PositionedEvent<E>[]) => {
            for (const [id, document] of foldEvents(projection, documents, batch).documents) {
              if (document) documents.set(id, document);
              else documents.delete(id);
            }
          };
          const before = all.slice(0, history.length);
          deliver(before);
          deliver(before);
          const after = all.slice(history.length);
          deliver(after);
          deliver(after);
          return {
            then(expect: (documents: Map<string, D>) => void) {
              expect(documents);
            },
          };
        },
      };
    },
  };
}
