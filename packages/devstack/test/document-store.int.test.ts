import { MongoClient, type Db } from 'mongodb';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

/** What the read models need from the store, beyond what its own test suite checks. */
describe('the document store', () => {
  let client: MongoClient;
  let db: Db;
  beforeAll(async () => {
    // A store that hangs fails these tests instead of holding the run.
    client = new MongoClient(mongoUrlFor(uniqueName('db')), { socketTimeoutMS: 20_000 });
    await client.connect();
    db = client.db();
  });
  afterAll(async () => {
    await client.close();
  });

  it('answers an update command of 300 statements that all find their documents', async () => {
    const collection = db.collection<{ _id: string; n: number }>(uniqueName('c'));
    await collection.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: `d${i}`, n: 0 })));
    const result = await collection.bulkWrite(
      Array.from({ length: 300 }, (_, i) => ({
        replaceOne: { filter: { _id: `d${i}`, n: 0 }, replacement: { _id: `d${i}`, n: 1 } },
      })),
      { ordered: false },
    );
    expect(result.modifiedCount).toBe(300);
    expect(await collection.countDocuments({ n: 1 })).toBe(300);
  });

  it('finds documents by _id through its index, alone, next to other conditions, or in a list', async () => {
    const build = await db.admin().command({ buildInfo: 1 });
    const collection = db.collection<{ _id: string; position: number }>(uniqueName('c'));
    await collection.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `d${i}`, position: i })));
    const filters = [{ _id: 'd1' }, { _id: 'd1', position: 1 }, { _id: { $in: ['d1', 'd2'] } }];
    for (const filter of filters) {
      expect(await collection.find(filter).toArray()).toEqual(
        [
          { _id: 'd1', position: 1 },
          { _id: 'd2', position: 2 },
        ].slice(0, '$in' in Object(filter._id) ? 2 : 1),
      );
      const plan = JSON.stringify(await collection.find(filter).explain());
      if ('ferretdbVersion' in build) expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      else expect(plan).toMatch(/IDHACK|"indexName":"_id_"|EXPRESS_IXSCAN/);
    }
  });
  it('finds the ids sharing a prefix through the _id index, and none other', async () => {
    const build = await db.admin().command({ buildInfo: 1 });
    const collection = db.collection<{ _id: string }>(uniqueName('c'));
    // Neighbours that a text order of the JSON-encoded ids would mix up with the prefix's.
    const ids = ['u1', 'u1.', 'u1.a', 'u1.b', 'u1.~', 'u1/', 'u1 x', 'u1!', 'u1"q', 'u10.a', 'u1-', 'u2.a'];
    await collection.insertMany(ids.map((_id) => ({ _id })));
    const filter = { _id: { $gte: 'u1.', $lt: 'u1/' } };
    const found = (await collection.find(filter).toArray()).map((d) => d._id).sort();
    expect(found).toEqual(['u1.', 'u1.a', 'u1.b', 'u1.~']);
    const plan = JSON.stringify(await collection.find(filter).explain());
    if ('ferretdbVersion' in build) expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
    else expect(plan).toMatch(/"indexName":"_id_"|IXSCAN/);
  });
});
