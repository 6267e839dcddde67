import { useEffect, useRef, useState } from 'preact/hooks';
import type { AdminClient, Menu, MenuButton } from './admin-client';

type Field = 'key' | 'url' | 'media_id' | 'article_id' | 'appid' | 'pagepath';

/** What each button does, in WeChat's words in brackets, with the fields WeChat needs for it. */
const actions: { type: string; label: string; fields: Field[] }[] = [
  { type: 'click', label: 'Send a key (click)', fields: ['key'] },
  { type: 'view', label: 'Open a web page (view)', fields: ['url'] },
  { type: 'miniprogram', label: 'Open a mini program (miniprogram)', fields: ['appid', 'pagepath', 'url'] },
  { type: 'scancode_push', label: 'Scan a code (scancode_push)', fields: ['key'] },
  { type: 'scancode_waitmsg', label: 'Scan a code and wait for a reply (scancode_waitmsg)', fields: ['key'] },
  { type: 'pic_sysphoto', label: 'Take a photo (pic_sysphoto)', fields: ['key'] },
  { type: 'pic_photo_or_album', label: 'Photo or album (pic_photo_or_album)', fields: ['key'] },
  { type: 'pic_weixin', label: 'Photo from the WeChat album (pic_weixin)', fields: ['key'] },
  { type: 'location_select', label: 'Send a location (location_select)', fields: ['key'] },
  { type: 'media_id', label: 'Send saved material (media_id)', fields: ['media_id'] },
  { type: 'article_id', label: 'Open a published article (article_id)', fields: ['article_id'] },
  {
    type: 'article_view_limited',
    label: 'Open a published article, limited (article_view_limited)',
    fields: ['article_id'],
  },
];
const SUBMENU = 'submenu';

const fieldLabels: Record<Field, string> = {
  key: 'Key',
  url: 'Web page URL',
  media_id: 'Material media ID',
  article_id: 'Article ID',
  appid: 'Mini program appid',
  pagepath: 'Mini program page path',
};

const MAX_BUTTONS = 3;
const MAX_SUB_BUTTONS = 5;

interface ButtonDraft extends Record<Field, string> {
  id: number;
  name: string;
  type: string;
  subs: ButtonDraft[];
}

let nextButton = 1;
const blank = (type = 'click'): ButtonDraft => ({
  id: nextButton++,
  name: '',
  type,
  key: '',
  url: '',
  media_id: '',
  article_id: '',
  appid: '',
  pagepath: '',
  subs: [],
});

const fieldsOf = (type: string) => actions.find((a) => a.type === type)?.fields ?? [];

function draftOf(button: MenuButton): ButtonDraft {
  const draft = blank(button.type ?? 'click');
  draft.name = button.name;
  for (const field of Object.keys(fieldLabels) as Field[]) draft[field] = button[field] ?? '';
  if (button.sub_button && button.sub_button.length > 0) {
    draft.type = SUBMENU;
    draft.subs = button.sub_button.map(draftOf);
  }
  return draft;
}

/** Only the fields the chosen action uses: a leftover URL on a click button would be sent to WeChat. */
function buttonOf(draft: ButtonDraft): MenuButton {
  if (draft.type === SUBMENU) return { name: draft.name, sub_button: draft.subs.map(buttonOf) };
  return {
    type: draft.type,
    name: draft.name,
    ...Object.fromEntries(fieldsOf(draft.type).map((field) => [field, draft[field].trim()])),
  };
}

function describe(button: MenuButton): string {
  if (button.sub_button && button.sub_button.length > 0) return 'sub-menu';
  const action = actions.find((a) => a.type === button.type);
  const detail = (action?.fields ?? []).map((field) => button[field]).filter(Boolean);
  return [button.type, ...detail].join(' · ');
}

function PublishedMenu(props: { menu: Menu | null | undefined }) {
  return (
    <section class="panel" aria-label="Published menu" data-testid="published-menu">
      <h2>Published menu</h2>
      {props.menu === undefined && <p class="meta">Loading…</p>}
      {props.menu === null && <p>No menu is published.</p>}
      {props.menu && (
        <ul class="menu-tree">
          {props.menu.button.map((button) => (
            <li>
              <strong>{button.name}</strong> <span class="meta">{describe(button)}</span>
              {button.sub_button && button.sub_button.length > 0 && (
                <ul>
                  {button.sub_button.map((sub) => (
                    <li>
                      {sub.name} <span class="meta">{describe(sub)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ButtonFields(props: {
  button: ButtonDraft;
  top: boolean;
  legend: string;
  onChange(next: ButtonDraft): void;
  onRemove(): void;
}) {
  const { button, onChange } = props;
  const set = (next: Partial<ButtonDraft>) => onChange({ ...button, ...next });
  return (
    <fieldset class="rule">
      <legend>{props.legend}</legend>
      <label>
        {props.top ? 'Name (up to 16 bytes: 5 Chinese characters)' : 'Name (up to 60 bytes)'}
        <input required value={button.name} onInput={(e) => set({ name: e.currentTarget.value })} />
      </label>
      <label>
        Action
        <select
          aria-label="Action"
          value={button.type}
          onChange={(e) => set({ type: e.currentTarget.value })}
        >
          {props.top && <option value={SUBMENU}>Open a sub-menu</option>}
          {actions.map((action) => (
            <option value={action.type}>{action.label}</option>
          ))}
        </select>
      </label>
      {fieldsOf(button.type).map((field) => (
        <label>
          {field === 'url' && button.type === 'miniprogram'
            ? 'Web page URL (for old WeChat versions)'
            : fieldLabels[field]}
          <input value={button[field]} onInput={(e) => set({ [field]: e.currentTarget.value })} />
        </label>
      ))}
      {button.type === SUBMENU && (
        <>
          {button.subs.map((sub, i) => (
            <ButtonFields
              key={sub.id}
              button={sub}
              top={false}
              legend={`Sub-button ${i + 1} of ${props.legend.toLowerCase()}`}
              onChange={(next) => set({ subs: button.subs.map((s) => (s.id === sub.id ? next : s)) })}
              onRemove={() => set({ subs: button.subs.filter((s) => s.id !== sub.id) })}
            />
          ))}
          <button
            type="button"
            class="secondary"
            disabled={button.subs.length >= MAX_SUB_BUTTONS}
            onClick={() => set({ subs: [...button.subs, blank()] })}
          >
            {`Add a sub-button to ${props.legend.toLowerCase()}`}
          </button>
        </>
      )}
      <button
        type="button"
        class="secondary"
        aria-label={`Remove ${props.legend.toLowerCase()}`}
        onClick={props.onRemove}
      >
        Remove
      </button>
    </fieldset>
  );
}

type Outcome = { kind: 'published' } | { kind: 'deleted' };

export function MenuEditor(props: { client: AdminClient; appId: string }) {
  // undefined: not loaded yet; null: the account has no menu.
  const [current, setCurrent] = useState<Menu | null>();
  const [buttons, setButtons] = useState<ButtonDraft[]>([]);
  const [error, setError] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  const refresh = async () => {
    const menu = (await props.client.menu(props.appId)) ?? null;
    if (live.current) setCurrent(menu);
    return menu;
  };
  useEffect(() => {
    setCurrent(undefined);
    setOutcome(undefined);
    setError(undefined);
    refresh().then(
      (menu) => live.current && setButtons(menu ? menu.button.map(draftOf) : [blank()]),
      (e: Error) => live.current && setError(e.message),
    );
  }, [props.appId]);

  const act = async (work: () => Promise<unknown>, done: Outcome) => {
    setBusy(true);
    setError(undefined);
    setOutcome(undefined);
    try {
      await work();
      await refresh();
      if (live.current) setOutcome(done);
    } catch (e) {
      if (live.current) setError((e as Error).message);
    } finally {
      if (live.current) {
        setBusy(false);
        setConfirming(false);
      }
    }
  };
  const publish = (event: Event) => {
    event.preventDefault();
    void act(() => props.client.publishMenu(props.appId, { button: buttons.map(buttonOf) }), {
      kind: 'published',
    });
  };

  return (
    <div class="layout">
      <div class="stack-gap">
        <PublishedMenu menu={current} />
        {current && (
          <div class="panel">
            {confirming ? (
              <div class="actions">
                <span>Remove the menu for every follower?</span>
                <button
                  type="button"
                  class="danger"
                  disabled={busy}
                  onClick={() => act(() => props.client.deleteMenu(props.appId), { kind: 'deleted' })}
                >
                  Yes, delete the menu
                </button>
                <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                  Keep it
                </button>
              </div>
            ) : (
              <button type="button" class="secondary" onClick={() => setConfirming(true)}>
                Delete menu
              </button>
            )}
          </div>
        )}
      </div>
      <form class="stack panel" onSubmit={publish} aria-label="Menu editor">
        <h2>Menu to publish</h2>
        <p class="meta">
          1 to 3 buttons; a button opening a sub-menu holds up to 5. Clicks send their key to the reply rules.
        </p>
        {buttons.map((button, i) => (
          <ButtonFields
            key={button.id}
            button={button}
            top
            legend={`Button ${i + 1}`}
            onChange={(next) => setButtons(buttons.map((b) => (b.id === button.id ? next : b)))}
            onRemove={() => setButtons(buttons.filter((b) => b.id !== button.id))}
          />
        ))}
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={buttons.length >= MAX_BUTTONS}
            onClick={() => setButtons([...buttons, blank()])}
          >
            Add a button
          </button>
          <button type="submit" disabled={busy || buttons.length === 0}>
            {busy ? 'Publishing…' : 'Publish menu'}
          </button>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {outcome && (
          <p class="ok" role="status" data-testid="menu-status">
            {outcome.kind === 'published'
              ? 'Published: WeChat accepted the menu; followers see it within minutes.'
              : 'Deleted: the account has no menu now.'}
          </p>
        )}
      </form>
    </div>
  );
}
