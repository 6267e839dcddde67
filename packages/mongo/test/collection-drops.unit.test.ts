import type { Db } from 'mongodb';
import { CollectionsNotDropped, dropCollections } from '../src/collection-drops';

/** A store whose drops of `failing` collections fail, recording the drops it was asked for. */
function storeFailingToDrop(failing: string[]) {
  const asked: string[] = [];
  const db = {
    collection: (name: string) => ({
      drop: async () => {
        asked.push(name);
        if (failing.includes(name)) throw new Error('connection closed');
        return true;
      },
    }),
  } as unknown as Db;
  return { db, asked };
}

describe('dropping a replaced read model', () => {
  it('drops every collection it is given', async () => {
    const store = storeFailingToDrop([]);
    await dropCollections(store.db, ['subscribers_r1', 'journeys_r1']);
    expect(store.asked).toEqual(['subscribers_r1', 'journeys_r1']);
  });

  it('tries every collection when one fails, and names those left with the cause', async () => {
    const store = storeFailingToDrop(['journeys_r1', 'counts_r1']);
    const dropping = dropCollections(store.db, ['subscribers_r1', 'journeys_r1', 'counts_r1', 'users_r1']);
    await expect(dropping).rejects.toBeInstanceOf(CollectionsNotDropped);
    await expect(dropping).rejects.toMatchObject({ collections: ['journeys_r1', 'counts_r1'] });
    await expect(dropping).rejects.toThrow(
      'could not drop journeys_r1, counts_r1 (connection closed); nothing reads them any more: drop them by hand',
    );
    expect(store.asked).toEqual(['subscribers_r1', 'journeys_r1', 'counts_r1', 'users_r1']);
  });
});
