import { TagRefusal, TagTable } from '../src/tag-table';

const refusal = (run: () => unknown): number | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof TagRefusal) return error.errcode;
    throw error;
  }
  return undefined;
};

const usersOf = (...openIds: string[]) =>
  new Map(openIds.map((openId) => [openId, { tags: [] as number[] }]));

describe('emulated user tags', () => {
  it('numbers tags from 100 and refuses duplicate, empty and over-long names', () => {
    const table = new TagTable();
    expect(table.create('spring')).toEqual({ id: 100, name: 'spring' });
    expect(table.create('x'.repeat(30))).toEqual({ id: 101, name: 'x'.repeat(30) });
    expect(refusal(() => table.create('spring'))).toBe(45157);
    expect(refusal(() => table.create('x'.repeat(31)))).toBe(45158);
    expect(table.create('🌸'.repeat(30)).id).toBe(102);
    expect(refusal(() => table.create(''))).toBe(47001);
    expect(refusal(() => table.create(42))).toBe(47001);
  });

  it('keeps at most 100 tags per account', () => {
    const table = new TagTable();
    for (let i = 0; i < 100; i++) table.create(`tag ${i}`);
    expect(refusal(() => table.create('one more'))).toBe(45056);
  });

  it('tags known users once each and counts them', () => {
    const table = new TagTable();
    const users = usersOf('oA', 'oB');
    const { id } = table.create('spring');
    table.tagUsers(users, ['oA'], id);
    table.tagUsers(users, ['oA', 'oB'], id);
    expect(users.get('oA')?.tags).toEqual([id]);
    expect(table.list(users.values())).toEqual([{ id, name: 'spring', count: 2 }]);
  });

  it('refuses unknown tags and users, lists over 50 and users with 20 tags, tagging none of the list', () => {
    const table = new TagTable();
    const users = usersOf('oA', 'oFull');
    const { id } = table.create('spring');
    users.get('oFull')!.tags = Array.from({ length: 20 }, (_, i) => i + 1000);
    expect(refusal(() => table.tagUsers(users, ['oA'], 999))).toBe(45159);
    expect(refusal(() => table.tagUsers(users, ['oA'], String(id)))).toBe(45159);
    expect(refusal(() => table.tagUsers(users, ['oA', 'oNobody'], id))).toBe(40003);
    expect(refusal(() => table.tagUsers(users, ['oA', 'oFull'], id))).toBe(45059);
    expect(refusal(() => table.tagUsers(users, [], id))).toBe(40032);
    expect(refusal(() => table.tagUsers(users, Array(51).fill('oA'), id))).toBe(40032);
    expect(refusal(() => table.tagUsers(users, 'oA', id))).toBe(40032);
    expect(users.get('oA')?.tags).toEqual([]);
  });
});
