import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { AdminViews } from './Admin.tsx';
import { type Api, COOKIE_SESSION, createApi, csrfToken, type Me, savedToken, saveToken } from './api.ts';
import { Conversations } from './Conversations.tsx';
import { SupportQueue } from './Support.tsx';
import { Stream, type StreamStatus } from './stream.ts';
import { Busy, ErrorNote } from './ui.tsx';

export interface Session {
  api: Api;
  me: Me;
  stream: Stream;
  names: Map<string, string>;
}

type View = 'conversations' | 'support' | 'admin';

export function App() {
  const [token, setToken] = useState<string | null>(() => savedToken());
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    let stream: Stream | null = null;
    const api = createApi(token);
    (async () => {
      try {
        const me = await api.get<Me>('/me');
        const names = new Map<string, string>([[me.actor.id, me.actor.name]]);
        if (me.scopes.includes('people:read')) {
          const people = await api
            .get<{ items: { id: string; name: string }[] }>('/actors?limit=100')
            .catch(() => ({ items: [] }));
          for (const a of people.items) names.set(a.id, a.name);
        }
        if (cancelled) return;
        stream = new Stream(token);
        // For debugging and the browser tests (they drop the socket to test the catch-up).
        (window as unknown as { __parleyStream?: Stream }).__parleyStream = stream;
        setSession({ api, me, stream, names });
      } catch (err) {
        if (cancelled) return;
        saveToken(null);
        setToken(null);
        setError(err);
      }
    })();
    return () => {
      cancelled = true;
      stream?.close();
    };
  }, [token]);

  if (!token) {
    return (
      <SignIn
        error={error}
        onToken={(t) => {
          setError(null);
          saveToken(t);
          setToken(t);
        }}
      />
    );
  }
  if (!session) return <Busy label="Signing in…" />;
  return (
    <Shell
      session={session}
      onSignOut={() => {
        if (token === COOKIE_SESSION)
          void fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrfToken() ?? '' } });
        saveToken(null);
        setSession(null);
        setToken(null);
      }}
    />
  );
}

function SignIn({ onToken, error }: { onToken: (t: string) => void; error: unknown }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = value.trim().replace(/^Bearer\s+/i, '');
    if (t) onToken(t);
  };
  return (
    <main className="signin">
      <h1>Parley console</h1>
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <p>
          Paste an access token. <code>npm start</code> prints one for the demo org;{' '}
          <code>parley token create</code> issues one for any user. The token stays in this tab only (session
          storage).
        </p>
        <label htmlFor="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="pk_…"
          required
        />
        <button type="submit">Sign in</button>
        <ErrorNote error={error} />
      </form>
      <form
        method="get"
        onSubmit={(e) => {
          e.preventDefault();
          const org = new FormData(e.currentTarget).get('org');
          if (org) location.assign(`/auth/oidc/${encodeURIComponent(String(org))}/login?return_to=/`);
        }}
        aria-label="Sign in with SSO"
      >
        <label htmlFor="sso-org">Organization (slug)</label>
        <input id="sso-org" name="org" autoComplete="organization" required />
        <button type="submit">Sign in with SSO</button>
      </form>
    </main>
  );
}

function StreamBadge({ stream }: { stream: Stream }) {
  const [status, setStatus] = useState<StreamStatus>(stream.status);
  useEffect(() => stream.onStatus(setStatus), [stream]);
  const label = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' }[
    status
  ];
  return (
    <span className={`badge stream-${status}`} role="status" aria-label={`Realtime: ${label}`}>
      {label}
    </span>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { me } = session;
  const role = me.actor.role ?? '';
  const staff = me.scopes.includes('support:read') && ['owner', 'admin', 'operator'].includes(role);
  const admin = me.scopes.includes('admin') && ['owner', 'admin'].includes(role);
  const views = useMemo(() => {
    const v: [View, string][] = [['conversations', 'Conversations']];
    if (staff) v.push(['support', 'Support queue']);
    if (admin) v.push(['admin', 'Admin']);
    return v;
  }, [staff, admin]);
  const [view, setView] = useState<View>('conversations');
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">Parley</strong>
        <nav aria-label="Main">
          {views.map(([id, label]) => (
            <button
              key={id}
              type="button"
              className="tab"
              aria-current={view === id ? 'page' : undefined}
              onClick={() => setView(id)}
            >
              {label}
            </button>
          ))}
        </nav>
        <span className="who">
          {me.actor.name} <small>({role || me.actor.kind})</small>
        </span>
        <StreamBadge stream={session.stream} />
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {view === 'conversations' && <Conversations session={session} />}
      {view === 'support' && <SupportQueue session={session} />}
      {view === 'admin' && <AdminViews session={session} />}
    </div>
  );
}
