import { useEffect, useRef, useState } from 'preact/hooks';
import type { AdminClient, KeywordRule, ReplyMessage, ReplyRules } from './admin-client';
import { MessageEditor, draftOf, emptyMessage, messageOf, type MessageDraft } from './reply-message-editor';

type KeyedSection = 'menu' | 'welcome' | 'scan';

interface KeyedRow {
  id: number;
  key: string;
  message: MessageDraft;
}

interface KeywordRow {
  id: number;
  match: KeywordRule['match'];
  keyword: string;
  message: MessageDraft;
}

interface Draft {
  menu: KeyedRow[];
  welcome: KeyedRow[];
  scan: KeyedRow[];
  keywords: KeywordRow[];
  otherText?: MessageDraft;
}

const sections: Record<KeyedSection, { title: string; row: string; keyLabel: string; hint: string }> = {
  menu: {
    title: 'Menu clicks',
    row: 'Menu reply',
    keyLabel: 'Menu key',
    hint: 'Sent when a follower clicks the menu button with this key.',
  },
  welcome: {
    title: 'New followers',
    row: 'Welcome reply',
    keyLabel: 'QR scene, or default',
    hint: 'Sent on a follow through the QR code with this scene; "default" answers every other follow.',
  },
  scan: {
    title: 'Scans by followers',
    row: 'Scan reply',
    keyLabel: 'QR scene, or default',
    hint: 'Sent when someone who already follows scans the code with this scene; "default" for the others.',
  },
};

let nextRow = 1;
const rowId = () => nextRow++;

function draftFrom(rules: ReplyRules): Draft {
  const keyed = (messages: Record<string, ReplyMessage>) =>
    Object.entries(messages).map(([key, message]) => ({ id: rowId(), key, message: draftOf(message) }));
  return {
    menu: keyed(rules.menu),
    welcome: keyed(rules.welcome),
    scan: keyed(rules.scan),
    keywords: rules.keywords.rules.map((rule) => ({
      id: rowId(),
      match: rule.match,
      keyword: rule.keyword,
      message: draftOf(rule.reply),
    })),
    ...(rules.keywords.default ? { otherText: draftOf(rules.keywords.default) } : {}),
  };
}

function rulesFrom(draft: Draft): ReplyRules {
  const keyed = (rows: KeyedRow[]) =>
    Object.fromEntries(rows.map((row) => [row.key.trim(), messageOf(row.message)]));
  return {
    menu: keyed(draft.menu),
    welcome: keyed(draft.welcome),
    scan: keyed(draft.scan),
    keywords: {
      rules: draft.keywords.map((row) => ({
        match: row.match,
        keyword: row.keyword,
        reply: messageOf(row.message),
      })),
      ...(draft.otherText ? { default: messageOf(draft.otherText) } : {}),
    },
  };
}

/** Two rows under one key would silently become one rule: the later would win. */
function duplicateKey(draft: Draft): string | undefined {
  for (const section of Object.keys(sections) as KeyedSection[]) {
    const seen = new Set<string>();
    for (const row of draft[section]) {
      const key = row.key.trim();
      if (seen.has(key))
        return `${sections[section].keyLabel} "${key}" is used twice under ${sections[section].title}.`;
      seen.add(key);
    }
  }
  return undefined;
}

/** Key order differs between what was sent and what the store gives back; the content must not. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const sameRules = (a: ReplyRules, b: ReplyRules) =>
  canonical({ menu: a.menu, welcome: a.welcome, scan: a.scan, keywords: a.keywords }) ===
  canonical({ menu: b.menu, welcome: b.welcome, scan: b.scan, keywords: b.keywords });

type SaveState = { phase: 'accepted'; event: string } | { phase: 'in-effect' } | { phase: 'not-yet' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to look for the saved rules in GET: the menu responder records them within a second or two. */
const CONFIRM_WITHIN_MS = 15_000;

export function ReplyRulesEditor(props: { client: AdminClient; appId: string }) {
  const [draft, setDraft] = useState<Draft>();
  const [loadError, setLoadError] = useState<string>();
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<SaveState>();
  const [busy, setBusy] = useState(false);
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  const load = async () => {
    setLoadError(undefined);
    try {
      const rules = await props.client.replies(props.appId);
      if (live.current) setDraft(draftFrom(rules));
    } catch (e) {
      if (live.current) setLoadError((e as Error).message);
    }
  };
  useEffect(() => {
    setDraft(undefined);
    setSaved(undefined);
    setError(undefined);
    void load();
  }, [props.appId]);

  if (loadError)
    return (
      <section class="panel" aria-label="Reply rules">
        <p class="error" role="alert">
          The reply rules could not be loaded: {loadError}
        </p>
        <button type="button" onClick={load}>
          Try again
        </button>
      </section>
    );
  if (!draft)
    return (
      <section class="panel" aria-label="Reply rules">
        <p class="meta">Loading the reply rules…</p>
      </section>
    );

  const change = (next: Partial<Draft>) => {
    setDraft({ ...draft, ...next });
    setSaved(undefined);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setSaved(undefined);
    const duplicate = duplicateKey(draft);
    setError(duplicate);
    if (duplicate) return;
    const rules = rulesFrom(draft);
    setBusy(true);
    try {
      const accepted = await props.client.setReplies(props.appId, rules);
      setSaved({ phase: 'accepted', event: accepted.accepted });
      // 202 means recorded, not yet applied: the rules are in force once GET returns them.
      for (const until = Date.now() + CONFIRM_WITHIN_MS; Date.now() < until && live.current;) {
        if (sameRules(await props.client.replies(props.appId), rules)) {
          if (live.current) setSaved({ phase: 'in-effect' });
          return;
        }
        await sleep(500);
      }
      if (live.current) setSaved({ phase: 'not-yet' });
    } catch (e) {
      if (live.current) setError((e as Error).message);
    } finally {
      if (live.current) setBusy(false);
    }
  };

  return (
    <form class="stack panel replies" onSubmit={save} aria-label="Reply rules">
      <h2>Automatic replies</h2>
      {(Object.keys(sections) as KeyedSection[]).map((section) => (
        <KeyedRows
          key={section}
          section={section}
          rows={draft[section]}
          onChange={(rows) => change({ [section]: rows })}
        />
      ))}
      <KeywordRows draft={draft} onChange={change} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save reply rules'}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={load}>
          Discard changes
        </button>
      </div>
      {error && (
        <p class="error" role="alert" data-testid="replies-error">
          Not saved: {error}
        </p>
      )}
      {saved && (
        <p class={saved.phase === 'not-yet' ? 'error' : 'ok'} role="status" data-testid="replies-status">
          {saved.phase === 'accepted' &&
            `Accepted (202, event ${saved.event}); waiting for the rules to take effect…`}
          {saved.phase === 'in-effect' && 'Saved and in effect: the API now returns these rules.'}
          {saved.phase === 'not-yet' &&
            'Accepted, but the API does not return these rules yet. Reload the page in a minute to check.'}
        </p>
      )}
    </form>
  );
}

function KeyedRows(props: { section: KeyedSection; rows: KeyedRow[]; onChange(rows: KeyedRow[]): void }) {
  const { title, row: rowName, keyLabel, hint } = sections[props.section];
  const update = (id: number, next: Partial<KeyedRow>) =>
    props.onChange(props.rows.map((row) => (row.id === id ? { ...row, ...next } : row)));
  return (
    <section class="rule-section" aria-label={title}>
      <h3>{title}</h3>
      <p class="meta">{hint}</p>
      {props.rows.map((row, i) => (
        <fieldset class="rule" key={row.id}>
          <legend>{`${rowName} ${i + 1}`}</legend>
          <label>
            {keyLabel}
            <input required value={row.key} onInput={(e) => update(row.id, { key: e.currentTarget.value })} />
          </label>
          <MessageEditor value={row.message} onChange={(message) => update(row.id, { message })} />
          <button
            type="button"
            class="secondary"
            aria-label={`Remove ${rowName.toLowerCase()} ${i + 1}`}
            onClick={() => props.onChange(props.rows.filter((r) => r.id !== row.id))}
          >
            Remove
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        class="secondary"
        onClick={() => props.onChange([...props.rows, { id: rowId(), key: '', message: emptyMessage() }])}
      >
        {`Add ${rowName.toLowerCase()}`}
      </button>
    </section>
  );
}

function KeywordRows(props: { draft: Draft; onChange(next: Partial<Draft>): void }) {
  const rows = props.draft.keywords;
  const update = (id: number, next: Partial<KeywordRow>) =>
    props.onChange({ keywords: rows.map((row) => (row.id === id ? { ...row, ...next } : row)) });
  return (
    <section class="rule-section" aria-label="Text messages">
      <h3>Text messages</h3>
      <p class="meta">Tried in order; the first keyword that matches answers.</p>
      {rows.map((row, i) => (
        <fieldset class="rule" key={row.id}>
          <legend>{`Keyword reply ${i + 1}`}</legend>
          <label>
            Match
            <select
              aria-label="Match"
              value={row.match}
              onChange={(e) => update(row.id, { match: e.currentTarget.value as KeywordRow['match'] })}
            >
              <option value="exact">The whole message is the keyword</option>
              <option value="contains">The message contains the keyword</option>
            </select>
          </label>
          <label>
            Keyword
            <input
              required
              maxLength={300}
              value={row.keyword}
              onInput={(e) => update(row.id, { keyword: e.currentTarget.value })}
            />
          </label>
          <MessageEditor value={row.message} onChange={(message) => update(row.id, { message })} />
          <button
            type="button"
            class="secondary"
            aria-label={`Remove keyword reply ${i + 1}`}
            onClick={() => props.onChange({ keywords: rows.filter((r) => r.id !== row.id) })}
          >
            Remove
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        class="secondary"
        onClick={() =>
          props.onChange({
            keywords: [...rows, { id: rowId(), match: 'exact', keyword: '', message: emptyMessage() }],
          })
        }
      >
        Add keyword reply
      </button>
      <label class="inline">
        <input
          type="checkbox"
          checked={props.draft.otherText !== undefined}
          onChange={(e) =>
            props.onChange({ otherText: e.currentTarget.checked ? emptyMessage() : undefined })
          }
        />
        Answer any other text
      </label>
      {props.draft.otherText && (
        <fieldset class="rule">
          <legend>Reply to any other text</legend>
          <MessageEditor
            value={props.draft.otherText}
            onChange={(otherText) => props.onChange({ otherText })}
          />
        </fieldset>
      )}
    </section>
  );
}
