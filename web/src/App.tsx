import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { AdminViews } from './Admin.tsx';
import { type Api, createApi, csrfToken, type Me, savedToken, saveToken } from './api.ts';
import { Conversations } from './Conversations.tsx';
import { MeMenu } from './MeMenu.tsx';
import { SupportQueue } from './Support.tsx';
import { Stream, type StreamStatus } from './stream.ts';
import { SupportTopbar } from './support/Availability.tsx';
import { SupportSetup } from './support/SupportSetup.tsx';
import { isSupportAdmin, visitorRefusal } from './support/staff.ts';
import { Busy, Empty, ErrorNote } from './ui.tsx';

export interface Session {
  api: Api;
  me: Me;
  stream: Stream;
  names: Map<string, string>;
}

/** Shown on the sign-in screen when a signed-in session's token stops working. */
export const SIGNED_OUT =
  'You were signed out: your access token is no longer valid (it was revoked or has expired, or your account was deactivated). Paste a new token to sign in again.';

export function App() {
  return (
    <BrowserRouter>
      <Root />
    </BrowserRouter>
  );
}

function Root() {
  const [token, setToken] = useState<string | null>(() => savedToken());
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message: string | null) => {
    // A console session (OpenID Connect) ends on the server too, which clears its cookies.
    const csrf = csrfToken();
    if (csrf) void fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
    saveToken(null);
    setSession(null);
    setToken(null);
    setNotice(message);
  }, []);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    let live = false;
    let stream: Stream | null = null;
    // A 401 once signed in (revoked, expired, deactivated): back to sign-in with a plain message.
    const api = createApi(token, () => {
      if (live && !cancelled) signOut(SIGNED_OUT);
    });
    (async () => {
      try {
        // Visitors (a widget credential or a visitor's token) are refused with a plain message.
        const visitor = visitorRefusal(token);
        if (visitor) throw new Error(visitor);
        const me = await api.get<Me>('/me');
        const refused = visitorRefusal(token, me);
        if (refused) throw new Error(refused);
        const names = new Map<string, string>([[me.actor.id, me.actor.name]]);
        if (me.scopes.includes('people:read')) {
          const people = await api
            .get<{ items: { id: string; name: string }[] }>('/actors?limit=100&include_inactive=true')
            .catch(() => ({ items: [] }));
          for (const a of people.items) names.set(a.id, a.name);
        }
        if (cancelled) return;
        live = true;
        stream = new Stream(token);
        stream.onStatus((s) => {
          if (s === 'unauthorized' && !cancelled) signOut(SIGNED_OUT);
        });
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
  }, [token, signOut]);

  if (!token) {
    return (
      <SignIn
        error={error}
        notice={notice}
        onToken={(t) => {
          setError(null);
          setNotice(null);
          saveToken(t);
          setToken(t);
        }}
      />
    );
  }
  if (!session) return <Busy label="Signing in…" />;
  return <Shell session={session} onSignOut={() => signOut(null)} />;
}

function SignIn({
  onToken,
  error,
  notice,
}: {
  onToken: (t: string) => void;
  error: unknown;
  notice: string | null;
}) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = value.trim().replace(/^Bearer\s+/i, '');
    if (t) onToken(t);
  };
  return (
    <main className="signin">
      <h1>
        <img src="/favicon.svg" alt="" width="28" height="28" /> Parley
      </h1>
      {notice && (
        <p className="notice" role="alert">
          {notice}
        </p>
      )}
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
  const label = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    closed: 'Offline',
    unauthorized: 'Signed out',
  }[status];
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
  const views: [string, string][] = [['/conversations', 'Conversations']];
  if (staff) views.push(['/support', 'Support queue']);
  if (isSupportAdmin(me)) views.push(['/support-setup', 'Support set-up']);
  if (admin) views.push(['/admin', 'Admin']);
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  // The phone menu closes when a link in it is followed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on navigation
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Parley
        </strong>
        <StreamBadge stream={session.stream} />
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-menu"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span aria-hidden="true">☰</span> Menu
        </button>
        <div id="main-menu" className={`topbar-menu ${menuOpen ? 'open' : ''}`}>
          <nav aria-label="Main">
            {views.map(([to, label]) => (
              <NavLink key={to} to={to} className="tab">
                {label}
              </NavLink>
            ))}
          </nav>
          {staff && <SupportTopbar session={session} />}
          <MeMenu session={session} />
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <Routes>
        <Route path="/" element={<Navigate to="/conversations" replace />} />
        <Route path="/index.html" element={<Navigate to="/conversations" replace />} />
        <Route path="/conversations/*" element={<Conversations session={session} />} />
        <Route path="/search" element={<Conversations session={session} />} />
        {staff && <Route path="/support" element={<SupportQueue session={session} />} />}
        {isSupportAdmin(me) && (
          <Route path="/support-setup" element={<Navigate to="/support-setup/widgets" replace />} />
        )}
        {isSupportAdmin(me) && (
          <Route path="/support-setup/:tab" element={<SupportSetup session={session} />} />
        )}
        {admin && <Route path="/admin" element={<Navigate to="/admin/recycle-bin" replace />} />}
        {admin && <Route path="/admin/:tab" element={<AdminViews session={session} />} />}
        <Route path="*" element={<NotFound />} />
      </Routes>
    </div>
  );
}

function NotFound() {
  return (
    <main className="admin">
      <h1>Not found</h1>
      <Empty>
        There is nothing here, or your token may not see it.{' '}
        <NavLink to="/conversations">Conversations</NavLink>
      </Empty>
    </main>
  );
}
