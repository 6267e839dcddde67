/**
 * What WeChat refuses in a reply, checked before a rule is accepted: the message's body under its
 * msgtype, each kind's required fields, and sizes. A rule names no recipient: a reply goes to the
 * user who acted.
 */

const utf8Bytes = (value: string) => Buffer.byteLength(value, 'utf8');

type FieldCheck = { name: string; required: boolean; maxBytes: number };
const field = (name: string, maxBytes: number, required = true): FieldCheck => ({ name, required, maxBytes });

/** Fields of each kind; sizes as WeChat documents or enforces them (text content: 2,048 bytes). */
const kinds: Readonly<Record<string, readonly FieldCheck[]>> = {
  text: [field('content', 2048)],
  image: [field('media_id', 128)],
  voice: [field('media_id', 128)],
  video: [
    field('media_id', 128),
    field('thumb_media_id', 128, false),
    field('title', 64, false),
    field('description', 120, false),
  ],
  music: [
    field('title', 64, false),
    field('description', 120, false),
    field('musicurl', 1024),
    field('hqmusicurl', 1024),
    field('thumb_media_id', 128),
  ],
  mpnews: [field('media_id', 128)],
  miniprogrampage: [
    field('title', 64),
    field('appid', 64),
    field('pagepath', 1024),
    field('thumb_media_id', 128),
  ],
};

const articleFields: readonly FieldCheck[] = [
  field('title', 64),
  field('description', 120, false),
  field('url', 1024),
  field('picurl', 1024, false),
];

function fieldProblems(path: string, body: Record<string, unknown>, checks: readonly FieldCheck[]): string[] {
  return checks.flatMap(({ name, required, maxBytes }) => {
    const value = body[name];
    if (value === undefined) return required ? [`${path}.${name} is required`] : [];
    if (typeof value !== 'string') return [`${path}.${name} must be text`];
    if (required && value.length === 0) return [`${path}.${name} must not be empty`];
    if (utf8Bytes(value) > maxBytes) return [`${path}.${name} is over ${maxBytes} bytes`];
    return [];
  });
}

/** The problems of one reply message, each naming its place under `path`; none when WeChat would take it. */
export function replyMessageProblems(path: string, message: unknown): string[] {
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    return [`${path} must be a message object`];
  const record = message as Record<string, unknown>;
  if (Object.hasOwn(record, 'touser'))
    return [`${path}.touser is not allowed: a reply goes to the user who acted`];
  const type = record.msgtype;
  if (typeof type !== 'string') return [`${path}.msgtype is required`];
  if (type !== 'news' && !Object.hasOwn(kinds, type))
    return [`${path}.msgtype "${type}" is not a kind of reply`];
  const body = record[type];
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return [`${path}: a "${type}" message needs a "${type}" object`];
  const bodyPath = `${path}.${type}`;
  if (type !== 'news') return fieldProblems(bodyPath, body as Record<string, unknown>, kinds[type]!);
  const articles = (body as { articles?: unknown }).articles;
  // WeChat sends one article per news message, in an answer to a user's message and through the
  // customer-service API alike.
  if (!Array.isArray(articles) || articles.length !== 1)
    return [`${bodyPath}.articles must hold exactly one article`];
  const [article] = articles as unknown[];
  if (article === null || typeof article !== 'object')
    return [`${bodyPath}.articles[0] must be an article object`];
  return fieldProblems(`${bodyPath}.articles[0]`, article as Record<string, unknown>, articleFields);
}
