import { randomBytes } from 'node:crypto';
import { aesKeyOf, encryptMessage } from './message-crypto';
import { wechatSignature } from './signature';

/** What it takes to send a push to an account the way WeChat does. */
export interface PushTarget {
  appId: string;
  token: string;
  encodingAESKey: string;
  encryptMode: 'plain' | 'compat' | 'safe';
  format?: 'xml' | 'json';
}

export type PushFieldValues = Record<string, string | number>;

function cdata(text: string): string {
  return `<![CDATA[${text.replace(/\]\]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** WeChat's XML: text in CDATA, numbers bare. */
export function pushXml(fields: PushFieldValues): string {
  const inner = Object.entries(fields)
    .map(([name, value]) => `<${name}>${typeof value === 'number' ? value : cdata(value)}</${name}>`)
    .join('');
  return `<xml>${inner}</xml>`;
}

export function pushJson(fields: PushFieldValues): string {
  return JSON.stringify(fields);
}

export interface BuiltPush {
  /** The query string, without the leading `?`. */
  query: string;
  body: string;
  contentType: string;
}

/** The query and body WeChat sends for these fields: signed, and encrypted as the account's mode says. */
export function buildPush(
  target: PushTarget,
  fields: PushFieldValues,
  options: { timestamp?: number; nonce?: string } = {},
): BuiltPush {
  const serialise = target.format === 'json' ? pushJson : pushXml;
  return buildPushOfBody(target, serialise(fields), {
    ...options,
    toUserName: String(fields.ToUserName ?? ''),
    fromUserName: String(fields.FromUserName ?? ''),
  });
}

/**
 * The query and body WeChat sends for a push body written out in full (XML or JSON, as the
 * account's format): signed, and encrypted as the account's mode says. In compatible mode the
 * plain body gets an `Encrypt` field beside its own.
 */
export function buildPushOfBody(
  target: PushTarget,
  plain: string,
  options: { toUserName: string; fromUserName: string; timestamp?: number; nonce?: string },
): BuiltPush {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  // 48 random bits: a gateway refuses a second body under a query it has seen, so two pushes built
  // in the same second must not share a nonce (32 bits collide within a few tens of thousands).
  const nonce = options.nonce ?? String(randomBytes(6).readUIntBE(0, 6));
  const json = target.format === 'json';
  const contentType = json ? 'application/json' : 'text/xml';
  const params = new URLSearchParams({
    signature: wechatSignature(target.token, timestamp, nonce),
    timestamp,
    nonce,
    openid: options.fromUserName,
  });
  if (target.encryptMode === 'plain') return { query: params.toString(), body: plain, contentType };

  const encrypted = encryptMessage(plain, aesKeyOf(target.encodingAESKey), target.appId);
  params.set('encrypt_type', 'aes');
  params.set('msg_signature', wechatSignature(target.token, timestamp, nonce, encrypted));
  let body: string;
  if (target.encryptMode === 'safe') {
    body = (json ? pushJson : pushXml)({ ToUserName: options.toUserName, Encrypt: encrypted });
  } else if (json) {
    // Spliced in, not parsed and written again: a 64-bit MsgId would not survive JSON.parse.
    const end = plain.lastIndexOf('}');
    body = `${plain.slice(0, end)},${JSON.stringify('Encrypt')}:${JSON.stringify(encrypted)}${plain.slice(end)}`;
  } else {
    const end = plain.lastIndexOf('</xml>');
    body = `${plain.slice(0, end)}<Encrypt><![CDATA[${encrypted}]]></Encrypt>${plain.slice(end)}`;
  }
  return { query: params.toString(), body, contentType };
}
