/** WeChat's rules for an account's user tags, as far as the platform can observe them. */
export const FIRST_TAG_ID = 100;
export const MAX_TAGS = 100;
export const MAX_TAG_NAME_LENGTH = 30;
export const MAX_TAGS_PER_USER = 20;
export const MAX_TAGGED_PER_CALL = 50;

/** A refusal with WeChat's errcode; the routes answer it as WeChat does. */
export class TagRefusal extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(errmsg);
  }
}

export interface TaggedUser {
  tags: number[];
}

export interface ListedTag {
  id: number;
  name: string;
  count: number;
}

/** One account's tags. Ids below 100 are WeChat's own (such as 2, starred), so made tags start there. */
export class TagTable {
  private readonly names = new Map<number, string>();
  private nextId = FIRST_TAG_ID;

  create(name: unknown): { id: number; name: string } {
    if (typeof name !== 'string' || name.length === 0) throw new TagRefusal(47001, 'data format error');
    if ([...name].length > MAX_TAG_NAME_LENGTH) throw new TagRefusal(45158, 'tag name too long');
    if ([...this.names.values()].includes(name)) throw new TagRefusal(45157, 'invalid tag name');
    if (this.names.size >= MAX_TAGS) throw new TagRefusal(45056, 'too many tags now, no need to add new');
    const id = this.nextId++;
    this.names.set(id, name);
    return { id, name };
  }

  has(id: number): boolean {
    return this.names.has(id);
  }

  list(users: Iterable<TaggedUser>): ListedTag[] {
    const counts = new Map<number, number>();
    for (const user of users) for (const id of user.tags) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...this.names].map(([id, name]) => ({ id, name, count: counts.get(id) ?? 0 }));
  }

  /** Tags every user of the list or, when any of them cannot be, none. */
  tagUsers(users: ReadonlyMap<string, TaggedUser>, openIds: unknown, tagId: unknown): void {
    if (!Array.isArray(openIds) || openIds.length === 0 || openIds.length > MAX_TAGGED_PER_CALL) {
      throw new TagRefusal(40032, 'invalid openid list size');
    }
    if (typeof tagId !== 'number' || !this.names.has(tagId)) throw new TagRefusal(45159, 'invalid tag id');
    const targets = openIds.map((openId) => {
      const user = typeof openId === 'string' ? users.get(openId) : undefined;
      if (!user) throw new TagRefusal(40003, 'invalid openid');
      if (!user.tags.includes(tagId) && user.tags.length >= MAX_TAGS_PER_USER) {
        throw new TagRefusal(45059, 'has too many tags');
      }
      return user;
    });
    for (const user of targets) if (!user.tags.includes(tagId)) user.tags.push(tagId);
  }
}
