import type { ReplyMessage } from './admin-client';

/** The kinds the form can fill in; a rule of another kind (set through the API) is kept as it is. */
const kinds = {
  text: 'Text',
  image: 'Image',
  voice: 'Voice',
  video: 'Video',
  music: 'Music',
  news: 'Link card (news)',
} as const;
type FormKind = keyof typeof kinds;

/** Every field a kind may use, flat, so switching kinds keeps what was typed. */
export interface MessageDraft {
  kind: FormKind | 'kept';
  content: string;
  mediaId: string;
  thumbMediaId: string;
  title: string;
  description: string;
  musicUrl: string;
  hqMusicUrl: string;
  url: string;
  picUrl: string;
  kept?: ReplyMessage;
}

export const emptyMessage = (): MessageDraft => ({
  kind: 'text',
  content: '',
  mediaId: '',
  thumbMediaId: '',
  title: '',
  description: '',
  musicUrl: '',
  hqMusicUrl: '',
  url: '',
  picUrl: '',
});

const text = (value: unknown) => (typeof value === 'string' ? value : '');

export function draftOf(message: ReplyMessage): MessageDraft {
  const draft = emptyMessage();
  const body = (message[message.msgtype] ?? {}) as Record<string, unknown>;
  switch (message.msgtype) {
    case 'text':
      return { ...draft, kind: 'text', content: text(body.content) };
    case 'image':
    case 'voice':
      return { ...draft, kind: message.msgtype, mediaId: text(body.media_id) };
    case 'video':
      return {
        ...draft,
        kind: 'video',
        mediaId: text(body.media_id),
        thumbMediaId: text(body.thumb_media_id),
        title: text(body.title),
        description: text(body.description),
      };
    case 'music':
      return {
        ...draft,
        kind: 'music',
        title: text(body.title),
        description: text(body.description),
        musicUrl: text(body.musicurl),
        hqMusicUrl: text(body.hqmusicurl),
        thumbMediaId: text(body.thumb_media_id),
      };
    case 'news': {
      const articles = (body.articles ?? []) as Record<string, unknown>[];
      // The API takes exactly one article; a different count is kept untouched rather than cut.
      if (articles.length !== 1) return { ...draft, kind: 'kept', kept: message };
      const [article = {}] = articles;
      return {
        ...draft,
        kind: 'news',
        title: text(article.title),
        description: text(article.description),
        url: text(article.url),
        picUrl: text(article.picurl),
      };
    }
    default:
      return { ...draft, kind: 'kept', kept: message };
  }
}

/** Optional fields left empty are left out: WeChat shows an empty title as an empty line. */
const optional = (entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== ''));

export function messageOf(draft: MessageDraft): ReplyMessage {
  switch (draft.kind) {
    case 'kept':
      return draft.kept as ReplyMessage;
    case 'text':
      return { msgtype: 'text', text: { content: draft.content } };
    case 'image':
    case 'voice':
      return { msgtype: draft.kind, [draft.kind]: { media_id: draft.mediaId } };
    case 'video':
      return {
        msgtype: 'video',
        video: {
          media_id: draft.mediaId,
          ...optional({
            thumb_media_id: draft.thumbMediaId,
            title: draft.title,
            description: draft.description,
          }),
        },
      };
    case 'music':
      return {
        msgtype: 'music',
        music: {
          ...optional({ title: draft.title, description: draft.description }),
          musicurl: draft.musicUrl,
          hqmusicurl: draft.hqMusicUrl,
          thumb_media_id: draft.thumbMediaId,
        },
      };
    case 'news':
      return {
        msgtype: 'news',
        news: {
          articles: [
            {
              title: draft.title,
              url: draft.url,
              ...optional({ description: draft.description, picurl: draft.picUrl }),
            },
          ],
        },
      };
  }
}

type FieldName = Exclude<keyof MessageDraft, 'kind' | 'kept'>;

/** Labels are unique within a message, so a label never matches a longer one by its prefix. */
const fieldsOf: Record<FormKind, [FieldName, string][]> = {
  text: [['content', 'Text']],
  image: [['mediaId', 'Media ID']],
  voice: [['mediaId', 'Media ID']],
  video: [
    ['mediaId', 'Media ID'],
    ['title', 'Title (optional)'],
    ['description', 'Description (optional)'],
    ['thumbMediaId', 'Cover image ID (optional)'],
  ],
  music: [
    ['musicUrl', 'Music URL'],
    ['hqMusicUrl', 'High-quality URL (for Wi-Fi)'],
    ['thumbMediaId', 'Cover image ID'],
    ['title', 'Title (optional)'],
    ['description', 'Description (optional)'],
  ],
  news: [
    ['title', 'Title'],
    ['url', 'Link'],
    ['description', 'Description (optional)'],
    ['picUrl', 'Picture URL (optional)'],
  ],
};

/** The reply's kind and that kind's fields; WeChat's limits are checked by the API when saving. */
export function MessageEditor(props: { value: MessageDraft; onChange(next: MessageDraft): void }) {
  const { value, onChange } = props;
  return (
    <div class="message">
      <label>
        Reply kind
        {/* Named explicitly: a wrapping label would also read out every option. */}
        <select
          aria-label="Reply kind"
          value={value.kind}
          onChange={(e) => onChange({ ...value, kind: e.currentTarget.value as MessageDraft['kind'] })}
        >
          {Object.entries(kinds).map(([kind, label]) => (
            <option value={kind}>{label}</option>
          ))}
          {value.kept && <option value="kept">{`${value.kept.msgtype} (kept as it is)`}</option>}
        </select>
      </label>
      {value.kind === 'kept' ? (
        <p class="meta">
          This {value.kept?.msgtype} reply was set through the API; the form keeps it unchanged.
        </p>
      ) : (
        fieldsOf[value.kind].map(([name, label]) =>
          name === 'content' ? (
            <label>
              {label}
              <textarea
                rows={3}
                value={value.content}
                onInput={(e) => onChange({ ...value, content: e.currentTarget.value })}
              />
            </label>
          ) : (
            <label>
              {label}
              <input
                value={value[name]}
                onInput={(e) => onChange({ ...value, [name]: e.currentTarget.value })}
              />
            </label>
          ),
        )
      )}
    </div>
  );
}
