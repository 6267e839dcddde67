import { connectMongo, projectIntoCollection, type MongoConnection } from '@wxp/mongo';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';
import { counters, type Counter } from './counter-projection';

describe('projecting into a real store', () => {
  const database = uniqueName('db');
  let mongo: MongoConnection;
  beforeAll(async () => {
    mongo = await connectMongo(mongoUrlFor(database), 'test');
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('inserts, updates and deletes in one read and bulk writes', async () => {
    const collection = mongo.db.collection<Counter>(uniqueName('c'));
    await projectIntoCollection(collection, counters, [
      { position: 1, event: { id: 'a', add: 1 } },
      { position: 2, event: { id: 'b', add: 5 } },
      { position: 3, event: { id: 'a', add: 2 } },
    ]);
    const stats = await projectIntoCollection(collection, counters, [
      { position: 4, event: { id: 'a', add: 10 } },
      { position: 5, event: { id: 'b', remove: true } },
      { position: 6, event: { id: 'c', add: 1 } },
    ]);
    expect(stats).toEqual({ applied: 3, skipped: 0, written: 3, conflicts: 0 });
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', total: 13, position: 4 },
      { _id: 'c', total: 1, position: 6 },
    ]);
  });

  it('writes a batch of hundreds of changes in commands the store can take, and the store keeps answering', async () => {
    const collection = mongo.db.collection<Counter>(uniqueName('c'));
    const ids = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await projectIntoCollection(
      collection,
      counters,
      ids.map((id, i) => ({ position: i + 1, event: { id, add: 1 } })),
    );
    const stats = await projectIntoCollection(
      collection,
      counters,
      ids.map((id, i) => ({
        position: 1000 + i,
        event: i % 3 === 0 ? { id, remove: true } : { id, add: 1 },
      })),
    );
    expect(stats).toEqual({ applied: 300, skipped: 0, written: 300, conflicts: 0 });
    expect(await collection.countDocuments({ total: 2 })).toBe(200);
    expect(await collection.countDocuments()).toBe(200);
  });

  it('changes nothing when a batch is delivered again', async () => {
    const collection = mongo.db.collection<Counter>(uniqueName('c'));
    const batch = [
      { position: 10, event: { id: 'a', add: 1 } },
      { position: 11, event: { id: 'a', add: 1 } },
    ];
    await projectIntoCollection(collection, counters, batch);
    const again = await projectIntoCollection(collection, counters, batch);
    expect(again).toMatchObject({ applied: 0, skipped: 2, written: 0 });
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', total: 2, position: 11 });
  });

  it('never rolls a document back when another writer got there first', async () => {
    const collection = mongo.db.collection<Counter>(uniqueName('c'));
    await collection.insertOne({ _id: 'a', total: 100, position: 50 });
    const stale = await projectIntoCollection(collection, counters, [
      { position: 20, event: { id: 'a', add: 1 } },
    ]);
    expect(stale).toMatchObject({ applied: 0, skipped: 1 });
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', total: 100, position: 50 });
  });

  it('sends replacements and deletions in commands of at most 50 statements', async () => {
    // The commands as the driver puts them on the wire, not as the code means to send them.
    const client = new MongoClient(mongoUrlFor(database), { monitorCommands: true });
    const sent: CommandStartedEvent[] = [];
    client.on('commandStarted', (event) => sent.push(event));
    try {
      const name = uniqueName('c');
      const collection = client.db().collection<Counter>(name);
      const ids = Array.from({ length: 300 }, (_, i) => `u${i}`);
      await collection.insertMany(ids.map((id) => ({ _id: id, total: 1, position: 1 })));
      const statements = (command: string) =>
        sent
          .filter((e) => e.commandName === command && e.command[command] === name)
          .map((e) => (e.command[command === 'update' ? 'updates' : 'deletes'] as unknown[]).length);

      sent.length = 0;
      const replaced = await projectIntoCollection(
        collection,
        counters,
        ids.map((id, i) => ({ position: 10 + i, event: { id, add: 1 } })),
      );
      expect(replaced).toMatchObject({ applied: 300, written: 300, conflicts: 0 });
      const updates = statements('update');
      expect(updates.reduce((a, b) => a + b, 0)).toBe(300);
      expect(Math.max(...updates)).toBeLessThanOrEqual(50);
      expect(updates).toHaveLength(6);

      sent.length = 0;
      const removed = await projectIntoCollection(
        collection,
        counters,
        ids.slice(0, 120).map((id, i) => ({ position: 1000 + i, event: { id, remove: true } })),
      );
      expect(removed).toMatchObject({ applied: 120, written: 120, conflicts: 0 });
      const deletes = statements('delete');
      expect(deletes.reduce((a, b) => a + b, 0)).toBe(120);
      expect(Math.max(...deletes)).toBeLessThanOrEqual(50);
      expect(deletes).toHaveLength(3);
      expect(await collection.countDocuments()).toBe(180);
    } finally {
      await client.close();
    }
  });
});
