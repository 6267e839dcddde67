import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AdminClient, ApiError, type QrCode } from './admin-client';
import { CampaignChart } from './campaign-chart';
import { CreateQrForm } from './create-qr-form';
import { FollowerPanel } from './follower-chart';
import { FunnelPanel } from './funnel-chart';
import { MenuEditor } from './menu-editor';
import { QrImage } from './qr-image';
import { ReplyRulesEditor } from './reply-rules-editor';
import { usePolling } from './use-polling';

const TOKEN_KEY = 'wxp-admin-token';

function Login(props: { onSignedIn(token: string): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await new AdminClient(token).apps();
      sessionStorage.setItem(TOKEN_KEY, token);
      props.onSignedIn(token);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That token is not valid.' : (e as Error).message);
    }
  };
  return (
    <form class="stack panel login" onSubmit={submit} aria-label="Sign in">
      <h2>Campaign dashboard</h2>
      <label>
        Admin token
        <input
          name="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Sign in</button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function CampaignDetail(props: { client: AdminClient; appId: string; code: QrCode }) {
  const { value: stats, error } = usePolling(`${props.appId}/${props.code.scene}`, () =>
    props.client.stats(props.appId, props.code.scene),
  );
  const follows = stats ? stats.subscribes + stats.returning : 0;
  return (
    <section class="panel" aria-label={`Campaign ${props.code.scene}`}>
      <div class="detail-head">
        <QrImage
          client={props.client}
          path={props.code.imageUrl}
          ticket={props.code.ticket}
          scene={props.code.scene}
          download
        />
        <div>
          <h2>{props.code.name ?? `Scene ${props.code.scene}`}</h2>
          <div class="meta">
            scene {props.code.scene} · {props.code.kind}
            {props.code.expiresAt &&
              ` · ${props.code.expired ? 'expired' : 'expires'} ${new Date(props.code.expiresAt).toLocaleString()}`}
          </div>
          <div class="figures">
            <div>
              <strong data-testid="scans-total">{stats?.scans ?? '–'}</strong>scans
            </div>
            <div>
              <strong data-testid="follows-total">{stats ? follows : '–'}</strong>new followers
            </div>
            <div>
              <strong data-testid="unfollows-total">{stats?.unsubscribes ?? '–'}</strong>unfollows
            </div>
          </div>
        </div>
      </div>
      {error && <p class="error">{error}</p>}
      {stats && <CampaignChart stats={stats} />}
      <FunnelPanel client={props.client} appId={props.appId} scene={props.code.scene} />
    </section>
  );
}

const pages = { campaigns: 'QR campaigns', replies: 'Reply rules', menu: 'Menu' } as const;
type PageName = keyof typeof pages;

/** The page is in the URL's fragment, so a reload or a shared link opens the same page. */
function usePage(): PageName {
  const read = () => {
    const name = location.hash.slice(1);
    return Object.hasOwn(pages, name) ? (name as PageName) : 'campaigns';
  };
  const [page, setPage] = useState(read);
  useEffect(() => {
    const follow = () => setPage(read());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return page;
}

function Dashboard(props: { token: string; onSignOut(): void }) {
  const client = new AdminClient(props.token);
  const { value: apps } = usePolling('apps', () => client.apps(), 60_000);
  const [chosenApp, setChosenApp] = useState<string>();
  const appId = chosenApp ?? apps?.apps[0]?.appId;
  const { value: codes, error } = usePolling(`codes/${appId}`, async () =>
    appId ? (await client.qrCodes(appId)).qrcodes : [],
  );
  const [selected, setSelected] = useState<string>();
  const page = usePage();
  const current = codes?.find((c) => c.scene === selected) ?? codes?.[0];
  // A token that stops working (rotated, say) sends the user back to sign in.
  const revoked = error?.includes('bearer token') ?? false;
  useEffect(() => {
    if (revoked) props.onSignOut();
  }, [revoked]);

  return (
    <>
      <header>
        <h1>{pages[page]}</h1>
        <nav aria-label="Pages">
          {(Object.keys(pages) as PageName[]).map((name) => (
            <a href={`#${name}`} aria-current={name === page ? 'page' : undefined}>
              {pages[name]}
            </a>
          ))}
        </nav>
        {apps && apps.apps.length > 1 && (
          <select aria-label="Account" value={appId} onChange={(e) => setChosenApp(e.currentTarget.value)}>
            {apps.apps.map((a) => (
              <option value={a.appId}>{a.appId}</option>
            ))}
          </select>
        )}
        {apps && apps.apps.length === 1 && <span class="meta">{appId}</span>}
        <button class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      {page === 'replies' && appId && (
        <div class="page">
          <ReplyRulesEditor client={client} appId={appId} />
        </div>
      )}
      {page === 'menu' && appId && <MenuEditor client={client} appId={appId} />}
      {page === 'campaigns' && (
        <div class="layout">
          <div>
            <div class="panel">
              {appId ? (
                <CreateQrForm client={client} appId={appId} onCreated={setSelected} />
              ) : (
                <p>No accounts are configured.</p>
              )}
            </div>
            <ul class="campaigns" aria-label="Campaigns">
              {(codes ?? []).map((code) => (
                <li key={code.scene}>
                  <button
                    aria-pressed={code === current}
                    onClick={() => setSelected(code.scene)}
                    data-testid={`campaign-${code.scene}`}
                  >
                    <QrImage
                      client={client}
                      path={code.imageUrl}
                      ticket={code.ticket}
                      scene={code.scene}
                      className="qr-thumb"
                    />
                    <span>
                      <strong>{code.name ?? `Scene ${code.scene}`}</strong>
                      <div class="meta">
                        {code.scene} · {code.stats.scans} scans ·{' '}
                        {code.stats.subscribes + code.stats.returning} followers
                        {code.expired ? ' · expired' : ''}
                      </div>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
            {codes && codes.length === 0 && <p class="meta">No QR codes yet: create the first one above.</p>}
            {error && <p class="error">{error}</p>}
          </div>
          <div class="stack-gap">
            {appId && <FollowerPanel client={client} appId={appId} />}
            {appId && current && <CampaignDetail client={client} appId={appId} code={current} />}
          </div>
        </div>
      )}
    </>
  );
}

function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? undefined);
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(undefined);
  };
  return token ? <Dashboard token={token} onSignOut={signOut} /> : <Login onSignedIn={setToken} />;
}

render(<App />, document.getElementById('app') as HTMLElement);
