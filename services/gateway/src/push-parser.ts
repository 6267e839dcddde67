import { XMLParser } from 'fast-xml-parser';
import { parse as parseLosslessJson } from 'lossless-json';

/** All fields of one push: strings for leaves (ids stay exact), objects and arrays for nested elements. */
export type PushFields = Record<string, unknown>;

export class MalformedPushError extends Error {
  override readonly name = 'MalformedPushError';
}

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  // Keep every value a string: a 64-bit MsgId is beyond a JavaScript number's exact range.
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (_name, jpath) => jpath === 'xml.SendPicsInfo.PicList.item',
});

/** MongoDB refuses field names with `.` or a leading `$`; read models store push fields as they are. */
function mongoSafeName(name: string): string {
  return name.replace(/\./g, '_').replace(/^\$/, '_');
}

function mongoSafe(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mongoSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [mongoSafeName(k), mongoSafe(v)]));
  }
  return value;
}

export function parseXmlPush(body: string): PushFields {
  // WeChat never sends a DTD; refusing one closes the door on entity-expansion attacks.
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new MalformedPushError('DTDs are not accepted');
  let parsed: unknown;
  try {
    parsed = xmlParser.parse(body, true);
  } catch (error) {
    throw new MalformedPushError(`not well-formed XML: ${(error as Error).message}`);
  }
  const root = (parsed as { xml?: unknown }).xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new MalformedPushError('the root element must be <xml> with child elements');
  }
  return mongoSafe(root) as PushFields;
}

/** A JSON push (an account with `format: "json"`): the same field names, numbers kept as their text. */
export function parseJsonPush(body: string): PushFields {
  let parsed: unknown;
  try {
    // Every number stays the text it was sent as: MsgId is beyond a double's exact range.
    parsed = parseLosslessJson(body, undefined, (text: string) => text);
  } catch (error) {
    throw new MalformedPushError(`not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedPushError('a JSON push must be an object');
  }
  return mongoSafe(parsed) as PushFields;
}

/** The fields every push carries; a push without them cannot become an event. */
export interface PushEnvelope {
  toUserName: string;
  fromUserName: string;
  createTime: string;
  msgType: string;
}

export function pushEnvelopeOf(fields: PushFields): PushEnvelope {
  const text = (name: string): string => {
    const value = fields[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new MalformedPushError(`${name} is missing or not text`);
    }
    return value;
  };
  const envelope = {
    toUserName: text('ToUserName'),
    fromUserName: text('FromUserName'),
    createTime: text('CreateTime'),
    msgType: text('MsgType'),
  };
  if (!/^[0-9]{1,12}$/.test(envelope.createTime)) {
    throw new MalformedPushError(`CreateTime must be whole seconds, got "${envelope.createTime}"`);
  }
  return envelope;
}
