import {
  connectMongo,
  projectWithDerived,
  type DocumentProjection,
  type MongoConnection,
  type VersionedDocument,
} from '@wxp/mongo';
import { mongoUrlFor, uniqueName } from '../../../test/support/infrastructure';

interface Member extends VersionedDocument {
  joined: boolean;
}
interface Tally extends VersionedDocument {
  partition: number;
  joins: number;
}
type Join = { user: string };
type Counted = { partition: number };

const members: DocumentProjection<Join, Member> = {
  documentId: (join) => join.user,
  evolve: (current, join, position) => (current ? current : { _id: join.user, joined: true, position }),
};
const tallies: DocumentProjection<Counted, Tally> = {
  documentId: (c) => `p${c.partition}`,
  evolve: (current, c, position) => ({
    _id: `p${c.partition}`,
    partition: c.partition,
    joins: (current?.joins ?? 0) + 1,
    position,
  }),
};

describe('a primary projection with aggregates derived from it', () => {
  let mongo: MongoConnection;
  beforeAll(async () => {
    mongo = await connectMongo(mongoUrlFor(uniqueName('db')), 'test');
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('credits each change to its own partition when a batch spans partitions with the same offsets', async () => {
    const spec = {
      primary: { collection: mongo.db.collection<Member>(uniqueName('m')), projection: members },
      derived: {
        collection: mongo.db.collection<Tally>(uniqueName('t')),
        projection: tallies,
        changeOf: (transition: { before: Member | null }, partition: number) =>
          transition.before ? undefined : { partition },
      },
    };
    const batch = [
      { partition: 0, position: 5, event: { user: 'a' } },
      { partition: 0, position: 6, event: { user: 'b' } },
      { partition: 1, position: 5, event: { user: 'c' } },
      { partition: 2, position: 6, event: { user: 'd' } },
      { partition: 2, position: 7, event: { user: 'e' } },
      { partition: 2, position: 8, event: { user: 'f' } },
    ];
    await projectWithDerived(spec, batch);
    await projectWithDerived(spec, batch); // delivered again: nothing changes
    expect(await spec.derived.collection.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'p0', partition: 0, joins: 2, position: 6 },
      { _id: 'p1', partition: 1, joins: 1, position: 5 },
      { _id: 'p2', partition: 2, joins: 3, position: 8 },
    ]);
    expect(await spec.primary.collection.countDocuments()).toBe(6);
  });
});
