import type { ReplyMessage } from './rules';

function cdata(text: string): string {
  return `<![CDATA[${text.replace(/\]\]>/g, ']]]]><![CDATA[>')}]]>`;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const part = (name: string, value: unknown) => `<${name}>${cdata(text(value))}</${name}>`;
const bodyOf = (message: ReplyMessage) => (message[message.msgtype] ?? {}) as Record<string, unknown>;

/** The message's elements in a passive reply, by msgtype; kinds WeChat has no passive form for are absent. */
const passiveForms: Readonly<Record<string, (body: Record<string, unknown>) => string>> = {
  text: (b) => part('Content', b.content),
  image: (b) => `<Image>${part('MediaId', b.media_id)}</Image>`,
  voice: (b) => `<Voice>${part('MediaId', b.media_id)}</Voice>`,
  video: (b) =>
    `<Video>${part('MediaId', b.media_id)}${part('Title', b.title)}${part('Description', b.description)}</Video>`,
  music: (b) =>
    `<Music>${part('Title', b.title)}${part('Description', b.description)}${part('MusicUrl', b.musicurl)}` +
    `${part('HQMusicUrl', b.hqmusicurl)}${part('ThumbMediaId', b.thumb_media_id)}</Music>`,
  news: (b) => {
    const articles = Array.isArray(b.articles) ? (b.articles as Record<string, unknown>[]) : [];
    const items = articles
      .map(
        (a) =>
          `<item>${part('Title', a.title)}${part('Description', a.description)}${part('PicUrl', a.picurl)}${part('Url', a.url)}</item>`,
      )
      .join('');
    return `<ArticleCount>${articles.length}</ArticleCount><Articles>${items}</Articles>`;
  },
};

/** Whether WeChat accepts this kind of message as a passive reply (mpnews, mini program cards: no). */
export function hasPassiveForm(message: ReplyMessage): boolean {
  return Object.hasOwn(passiveForms, message.msgtype);
}

/**
 * The passive reply WeChat expects in the HTTP answer to a push, before any encryption: to the user
 * who sent the push, from the account's original id, CreateTime in seconds. Undefined for a kind
 * of message that has no passive form.
 */
export function passiveReplyXml(
  message: ReplyMessage,
  to: { toUserName: string; fromUserName: string; createTime: number },
): string | undefined {
  if (!hasPassiveForm(message)) return undefined;
  const form = passiveForms[message.msgtype]!;
  return (
    `<xml>${part('ToUserName', to.toUserName)}${part('FromUserName', to.fromUserName)}` +
    `<CreateTime>${Math.floor(to.createTime)}</CreateTime>${part('MsgType', message.msgtype)}` +
    `${form(bodyOf(message))}</xml>`
  );
}
