import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Every field of the push as WeChat sent it: values are strings (ids stay exact), nested elements
 * stay objects or arrays, names are made safe for MongoDB (no leading `$`, no `.`).
 */
const PushFields = Type.Record(Type.String(), Type.Unknown(), {
  description:
    "All fields of the push, as received, with MongoDB-safe names; every value but the account's own (ToUserName, CreateTime, MsgType, Event, EventKey, Ticket, MenuId, MsgId) sealed with the user's data key",
});

/** What every event made from a user's push carries. */
export const userEventBase = {
  appId: Type.String({ minLength: 1, description: 'The account the push was sent to (our appId)' }),
  openId: Type.String({
    minLength: 1,
    description: "FromUserName: the user, unique per account; sealed with the user's data key",
  }),
  accountId: Type.String({ description: "ToUserName: the account's original id (gh_…)" }),
  createTime: Type.Integer({ minimum: 0, description: 'CreateTime of the push, seconds since the epoch' }),
  fields: PushFields,
};

/** Marks a property as personal: sealed on the topic, its opened shape kept under this keyword. */
export const SEALED_KEYWORD = 'x-sealed';

/**
 * A personal value. On the topic it is a sealed string (`wxp1.…`, see @wxp/privacy), so that is
 * what the schema checks; the TS type is the value once opened, whose schema is kept under
 * `x-sealed` for readers that open events themselves.
 */
export function Sealed<T extends TSchema>(opened: T, description: string) {
  return Type.Unsafe<Static<T>>({
    type: 'string',
    pattern: '^wxp1\\.',
    description: `${description}; sealed with the user's data key`,
    [SEALED_KEYWORD]: JSON.parse(JSON.stringify(opened)) as unknown,
  });
}

/** The names of an event schema's sealed properties. */
export function sealedPropertiesOf(schema: TSchema): string[] {
  const properties = (schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property[SEALED_KEYWORD] !== undefined)
    .map(([name]) => name);
}

/** MsgId of a message: a 64-bit integer, so a string. */
export const MessageId = Type.String({
  pattern: '^[0-9]+$',
  description: 'MsgId, a 64-bit integer as a string',
});
