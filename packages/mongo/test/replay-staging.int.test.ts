import {
  connectMongo,
  foldEvents,
  loadDocuments,
  projectIntoCollection,
  writeDocuments,
  stageReplayCollections,
  type MongoConnection,
  type PositionedEvent,
} from '@wxp/mongo';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { counters, type Change, type Counter } from './counter-projection';

/** 40 counters touched over and over in batches of 25; every fifth change of some removes one. */
function history(): PositionedEvent<Change>[][] {
  const events: PositionedEvent<Change>[] = [];
  for (let position = 1; position <= 500; position++) {
    const id = `c${(position * 7) % 40}`;
    events.push({ position, event: position % 45 === 0 ? { id, remove: true } : { id, add: position % 5 } });
  }
  const batches: PositionedEvent<Change>[][] = [];
  for (let from = 0; from < events.length; from += 25) batches.push(events.slice(from, from + 25));
  return batches;
}

describe('a replay staging its fresh collections in memory', () => {
  let mongo: MongoConnection;
  beforeAll(async () => {
    mongo = await connectMongo(mongoUrlFor(uniqueName('db')), 'test');
  });
  afterAll(async () => {
    await mongo.close();
  });

  const contents = (name: string) => mongo.db.collection<Counter>(name).find().sort({ _id: 1 }).toArray();

  async function projectAll(name: string) {
    for (const batch of history())
      await projectIntoCollection(mongo.db.collection<Counter>(name), counters, batch);
  }

  it.each([
    ['holding everything until the release', 1_000_000],
    ['writing out whenever it holds more than 7 documents', 7],
  ])('ends with what writing every batch gives, %s', async (_, maxDocuments) => {
    const direct = uniqueName('direct');
    await projectAll(direct);
    const staged = uniqueName('staged');
    const staging = stageReplayCollections(mongo.db, [staged], { maxDocuments });
    await projectAll(staged);
    if (maxDocuments > 1000) expect(await contents(staged)).toEqual([]);
    else expect((await contents(staged)).length).toBeGreaterThan(0);
    await staging.release();
    expect(await contents(staged)).toEqual(await contents(direct));
    expect((await contents(direct)).length).toBeGreaterThan(20);
  });

  it('sends a batch that arrives after the release to the store, on top of what was staged', async () => {
    const [first, ...rest] = history();
    const direct = uniqueName('direct');
    await projectAll(direct);
    const staged = uniqueName('staged');
    const staging = stageReplayCollections(mongo.db, [staged], { maxDocuments: 1_000_000 });
    await projectIntoCollection(mongo.db.collection<Counter>(staged), counters, first!);
    const releasing = staging.release();
    for (const batch of rest)
      await projectIntoCollection(mongo.db.collection<Counter>(staged), counters, batch);
    await releasing;
    expect(await contents(staged)).toEqual(await contents(direct));
  });

  it("keeps a batch's change to a document that another batch wrote out between its read and its write", async () => {
    const name = uniqueName('staged');
    const collection = mongo.db.collection<Counter>(name);
    const staging = stageReplayCollections(mongo.db, [name], { maxDocuments: 1 });
    await projectIntoCollection(collection, counters, [{ position: 1, event: { id: 'c1', add: 1 } }]);
    // One group reads c1 and folds its next event; meanwhile another group's write fills the
    // staging, which writes everything out and lets go of c1.
    const loaded = await loadDocuments(collection, ['c1']);
    const { documents } = foldEvents(counters, loaded, [{ position: 2, event: { id: 'c1', add: 2 } }]);
    await projectIntoCollection(collection, counters, [{ position: 1, event: { id: 'c2', add: 5 } }]);
    await writeDocuments(collection, loaded, documents);
    await staging.release();
    expect(await contents(name)).toEqual([
      expect.objectContaining({ _id: 'c1', position: 2, total: 3 }),
      expect.objectContaining({ _id: 'c2', position: 1, total: 5 }),
    ]);
  });

  it('writes nothing when discarded, and refuses to stage a collection twice', async () => {
    const staged = uniqueName('staged');
    const staging = stageReplayCollections(mongo.db, [staged], { maxDocuments: 1_000_000 });
    expect(() => stageReplayCollections(mongo.db, [staged], { maxDocuments: 10 })).toThrow(/already staged/);
    await projectAll(staged);
    staging.discard();
    expect(await contents(staged)).toEqual([]);
    await projectAll(staged); // after the discard, straight to the store
    expect((await contents(staged)).length).toBeGreaterThan(20);
  });
});
