import { XMLParser } from 'fast-xml-parser';
import { parse as parseLosslessJson } from 'lossless-json';

/** All fields of one push: strings for leaves (ids stay exact), objects and arrays for nested elements. */
export type PushFields = Record<string, unknown>;

/**
 * A push that cannot be used. The message is one of a fixed set of reasons and never quotes the
 * push: it is answered and logged, and the push may have been decrypted.
 */
export class MalformedPushError extends Error {
  override readonly name = 'MalformedPushError';
}

/**
 * How deep and how large a push may be, in both formats. WeChat's deepest push
 * (SendPicsInfo.PicList.item.PicMd5Sum) is five levels with the root, its largest a few dozen fields.
 */
export const PUSH_LIMITS = {
  /** Elements nested in one another, `<xml>` included; for JSON, objects and arrays, the root included. */
  maxDepth: 16,
  /** Elements, or JSON objects, arrays and values, the root included. */
  maxNodes: 1000,
} as const;

const TOO_DEEP = `nested deeper than ${PUSH_LIMITS.maxDepth} levels`;
const TOO_MANY = `more than ${PUSH_LIMITS.maxNodes - 1} fields`;

/** Names that would reach an object's prototype machinery if a consumer ever assigned them. */
const RESERVED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

function checkedName(name: string): string {
  if (RESERVED_NAMES.has(name)) throw new MalformedPushError(`a field is named ${name}, which is reserved`);
  // The parser reads `<!ENTITY …>` outside a DTD as an element named "!ENTITY"; it is a declaration.
  if (name.startsWith('!')) throw new MalformedPushError('declarations are not accepted');
  return name;
}

class DtdRefused extends MalformedPushError {}

const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The parser hands every DOCTYPE it meets to its entity decoder, wherever it stands; refusing there
 * refuses real DTDs and entity declarations and nothing else (CDATA and comments are never read as
 * markup). Only XML's five predefined entities are decoded, as the parser does by default.
 */
const predefinedEntitiesOnly = {
  addInputEntities(): void {
    throw new DtdRefused('DTDs are not accepted');
  },
  setExternalEntities(): void {},
  setXmlVersion(): void {},
  reset(): void {},
  decode(text: string): string {
    if (!text.includes('&')) return text;
    return text.replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) => PREDEFINED_ENTITIES[name] ?? '');
  },
};

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  // Keep every value a string: a 64-bit MsgId is beyond a JavaScript number's exact range.
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  entityDecoder: predefinedEntitiesOnly,
  // The parser counts its document node as well: a cap of 15 lets 16 elements nest, `<xml>` included.
  maxNestedTags: PUSH_LIMITS.maxDepth - 1,
  transformTagName: checkedName,
});

/**
 * Elements WeChat repeats, by their path from the root. Both formats give one occurrence as a value
 * and several as a list (a JSON subscribe_msg event's `List` too): these are made lists always, so
 * a reader sees one shape whatever the count.
 */
const REPEATED_ELEMENTS: readonly (readonly string[])[] = [
  ['SendPicsInfo', 'PicList', 'item'],
  ['SubscribeMsgPopupEvent', 'List'],
  ['SubscribeMsgChangeEvent', 'List'],
  ['SubscribeMsgSentEvent', 'List'],
  // JSON pushes carry a subscribe_msg event's items at the top.
  ['List'],
  ['CopyrightCheckResult', 'ResultList', 'item'],
  ['ArticleUrlResult', 'ResultList', 'item'],
  ['PublishEventInfo', 'article_detail', 'item'],
  ['PublishEventInfo', 'fail_idx'],
];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function withRepeatedElementsAsLists(fields: PushFields): PushFields {
  for (const path of REPEATED_ELEMENTS) {
    let parent: unknown = fields;
    for (const name of path.slice(0, -1)) parent = isRecord(parent) ? parent[name] : undefined;
    const name = path[path.length - 1]!;
    if (!isRecord(parent) || !Object.hasOwn(parent, name)) continue;
    const value = parent[name];
    if (!Array.isArray(value)) parent[name] = [value];
  }
  return fields;
}

/** MongoDB refuses field names with `.` or a leading `$`; read models store push fields as they are. */
function mongoSafeName(name: string): string {
  return name.replace(/\./g, '_').replace(/^\$/, '_');
}

/** The parsed push with names made safe, after counting its nodes and checking its names. */
function boundedFields(root: object): PushFields {
  let nodes = 0;
  const visit = (value: unknown): unknown => {
    if (++nodes > PUSH_LIMITS.maxNodes) throw new MalformedPushError(TOO_MANY);
    if (Array.isArray(value)) return value.map(visit);
    if (value !== null && typeof value === 'object') {
      const safe: Record<string, unknown> = {};
      for (const [name, inner] of Object.entries(value))
        safe[mongoSafeName(checkedName(name))] = visit(inner);
      return safe;
    }
    return value;
  };
  return visit(root) as PushFields;
}

export function parseXmlPush(body: string): PushFields {
  let parsed: unknown;
  try {
    parsed = xmlParser.parse(body, true);
  } catch (error) {
    if (error instanceof MalformedPushError) throw error;
    // The parser's own messages quote the input and its positions: only the depth cap is named.
    if ((error as Error).message === 'Maximum nested tags exceeded') throw new MalformedPushError(TOO_DEEP);
    throw new MalformedPushError('not well-formed XML');
  }
  const root = (parsed as { xml?: unknown }).xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new MalformedPushError('the root element must be <xml> with child elements');
  }
  return withRepeatedElementsAsLists(boundedFields(root));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** The JSON parser recurses once per level: the depth is checked on the text before it runs. */
function checkJsonDepth(body: string): void {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < body.length; i++) {
        const s = body.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > PUSH_LIMITS.maxDepth) throw new MalformedPushError(TOO_DEEP);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
}

/** A JSON push (an account with `format: "json"`): the same field names, numbers kept as their text. */
export function parseJsonPush(body: string): PushFields {
  checkJsonDepth(body);
  let parsed: unknown;
  try {
    // Every number stays the text it was sent as: MsgId is beyond a double's exact range.
    parsed = parseLosslessJson(body, undefined, (text: string) => text);
  } catch (error) {
    // As in XML, a repeated field is named as such; nothing else of the parser's message is kept.
    if ((error as Error).message.startsWith('Duplicate key')) {
      throw new MalformedPushError('a field appears more than once');
    }
    throw new MalformedPushError('not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedPushError('a JSON push must be an object');
  }
  return withRepeatedElementsAsLists(boundedFields(parsed));
}

/** The fields every push carries; a push without them cannot become an event. */
export interface PushEnvelope {
  toUserName: string;
  fromUserName: string;
  createTime: string;
  msgType: string;
}

/** A text field the event is made from, if present; a repeated one is refused rather than ignored. */
export function optionalText(fields: PushFields, name: string): string | undefined {
  const value = fields[name];
  if (Array.isArray(value)) throw new MalformedPushError(`${name} appears more than once`);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function pushEnvelopeOf(fields: PushFields): PushEnvelope {
  const text = (name: string): string => {
    const value = optionalText(fields, name);
    if (value === undefined) throw new MalformedPushError(`${name} is missing or not text`);
    return value;
  };
  const envelope = {
    toUserName: text('ToUserName'),
    fromUserName: text('FromUserName'),
    createTime: text('CreateTime'),
    msgType: text('MsgType'),
  };
  if (!/^[0-9]{1,12}$/.test(envelope.createTime)) {
    throw new MalformedPushError('CreateTime must be whole seconds');
  }
  return envelope;
}
