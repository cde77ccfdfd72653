import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { Session } from './App.tsx';
import { type Page, type Person, query } from './api.ts';
import { TeamChatSettings } from './thread/TeamChatSettings.tsx';
import { Avatar, Busy, Empty, ErrorNote, fullTime, RelativeTime, time, useAction } from './ui.tsx';

const ROLES = ['member', 'operator', 'admin', 'owner'];

/** People: the org's users (or bots, visitors); create a user, change a role, deactivate. */
export function People({ session }: { session: Session }) {
  const { api, me, names } = session;
  const [kind, setKind] = useState('user');
  const [items, setItems] = useState<Person[] | null>(null);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const load = useCallback(async () => {
    const page = await api.get<Page<Person>>(`/actors${query({ kind, include_inactive: true, limit: 100 })}`);
    setItems(page.items);
  }, [api, kind]);
  useEffect(() => {
    void action.run(load);
  }, [load, action.run]);
  const replace = (p: Person) => {
    names.set(p.id, p.name);
    setItems((prev) => prev?.map((x) => (x.id === p.id ? p : x)) ?? prev);
  };
  const create = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const p = await api.post<Person>('/actors', {
        kind: 'user',
        name: name.trim(),
        role,
        ...(email.trim() ? { email: email.trim() } : {}),
      });
      names.set(p.id, p.name);
      setNotice(`Added ${p.name} (${p.role}). Issue a token for them to sign in.`);
      setName('');
      setEmail('');
      await load();
    });
  };
  return (
    <section aria-labelledby="people-title">
      <h1 id="people-title">People</h1>
      <form className="inline-form" aria-label="Add a user" onSubmit={create}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={action.busy || !name.trim()}>
          Add user
        </button>
      </form>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={action.error} />
      <label className="filter">
        Show{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="user">Users</option>
          <option value="bot">Bots</option>
          <option value="visitor">Visitors</option>
        </select>
      </label>
      {items === null && <Busy label="Loading people…" />}
      {items?.length === 0 && <Empty>Nobody here yet.</Empty>}
      {items && items.length > 0 && (
        <table>
          <caption className="sr-only">People</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              {kind === 'user' && <th scope="col">Role</th>}
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id} className={p.active === false ? 'inactive' : ''}>
                <td data-label="Name">
                  <span className="person-cell">
                    <Avatar name={p.name} size="sm" /> {p.name}
                    {p.id === me.actor.id && <small> (you)</small>}
                  </span>
                </td>
                <td data-label="Email">{p.email ?? '—'}</td>
                {kind === 'user' && (
                  <td data-label="Role">
                    <select
                      aria-label={`Role of ${p.name}`}
                      value={p.role ?? 'member'}
                      disabled={action.busy || p.active === false || p.id === me.actor.id}
                      onChange={(e) => {
                        const next = e.target.value;
                        void action.run(async () =>
                          replace(await api.patch<Person>(`/actors/${p.id}`, { role: next })),
                        );
                      }}
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                )}
                <td data-label="Status">{p.active === false ? 'deactivated' : 'active'}</td>
                <td data-label="Actions">
                  {p.active !== false && p.id !== me.actor.id && (
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Deactivate ${p.name}`}
                      onClick={() =>
                        window.confirm(`Deactivate ${p.name}? Their tokens stop working at once.`) &&
                        void action.run(async () =>
                          replace(await api.post<Person>(`/actors/${p.id}/deactivate`)),
                        )
                      }
                    >
                      Deactivate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface Department {
  id: string;
  name: string;
  operator_ids: string[];
  created_at: string;
}

/** Departments: create one, choose its operators (operators, admins and owners). */
export function Departments({ session }: { session: Session }) {
  const { api, names } = session;
  const [items, setItems] = useState<Department[] | null>(null);
  const [staff, setStaff] = useState<Person[]>([]);
  const [name, setName] = useState('');
  const [editing, setEditing] = useState<{ id: string; ids: string[] } | null>(null);
  const action = useAction();
  const load = useCallback(async () => {
    setItems((await api.get<Page<Department>>('/departments?limit=100')).items);
  }, [api]);
  useEffect(() => {
    void action.run(async () => {
      await load();
      const people = await api.get<Page<Person>>('/actors?kind=user&limit=100');
      setStaff(people.items.filter((p) => ['operator', 'admin', 'owner'].includes(p.role ?? '')));
    });
  }, [load, api, action.run]);
  return (
    <section aria-labelledby="departments-title">
      <h1 id="departments-title">Departments</h1>
      <p>Support chats wait in a department's queue; its operators pick them up.</p>
      <form
        className="inline-form"
        aria-label="New department"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await api.post('/departments', { name: name.trim() });
            setName('');
            await load();
          });
        }}
      >
        <label>
          Department name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit" disabled={action.busy || !name.trim()}>
          Create department
        </button>
      </form>
      <ErrorNote error={action.error} />
      {items === null && <Busy label="Loading departments…" />}
      {items?.length === 0 && <Empty>No departments yet.</Empty>}
      <ul className="cards">
        {items?.map((d) => (
          <li key={d.id} className="card" aria-label={`Department ${d.name}`}>
            <h2>{d.name}</h2>
            {editing?.id === d.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void action.run(async () => {
                    await api.put(`/departments/${d.id}/operators`, { operator_ids: editing.ids });
                    setEditing(null);
                    await load();
                  });
                }}
              >
                <fieldset>
                  <legend>Operators of {d.name}</legend>
                  {staff.map((p) => (
                    <label key={p.id} className="person">
                      <input
                        type="checkbox"
                        checked={editing.ids.includes(p.id)}
                        onChange={() =>
                          setEditing({
                            id: d.id,
                            ids: editing.ids.includes(p.id)
                              ? editing.ids.filter((x) => x !== p.id)
                              : [...editing.ids, p.id],
                          })
                        }
                      />{' '}
                      {p.name} <small>{p.role}</small>
                    </label>
                  ))}
                </fieldset>
                <button type="submit" disabled={action.busy}>
                  Save operators
                </button>{' '}
                <button type="button" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <p>
                  {d.operator_ids.length === 0
                    ? 'No operators yet: every operator without a department serves it.'
                    : `Operators: ${d.operator_ids.map((id) => names.get(id) ?? id).join(', ')}`}
                </p>
                <button
                  type="button"
                  aria-label={`Choose operators of ${d.name}`}
                  onClick={() => setEditing({ id: d.id, ids: d.operator_ids })}
                >
                  Choose operators
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

interface SupportSettings {
  recycle_bin_days: number;
  missed_after_seconds: number;
}
interface DeletionWindow {
  any_time: boolean;
  start: string | null;
  end: string | null;
  time_zone: string | null;
  source: string;
  open_now: boolean;
  next_opening: string | null;
}

/** The org's settings the API offers: retention in the recycle bin, missed chats, the off-peak window. */
export function OrgSettings({ session }: { session: Session }) {
  const { api } = session;
  const [settings, setSettings] = useState<SupportSettings | null>(null);
  const [win, setWin] = useState<DeletionWindow | null>(null);
  const [days, setDays] = useState('');
  const [missed, setMissed] = useState('');
  const [anyTime, setAnyTime] = useState(false);
  const [start, setStart] = useState('00:00');
  const [end, setEnd] = useState('06:00');
  const [zone, setZone] = useState('UTC');
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const showWindow = useCallback((w: DeletionWindow) => {
    setWin(w);
    setAnyTime(w.any_time);
    if (w.start) setStart(w.start);
    if (w.end) setEnd(w.end);
    if (w.time_zone) setZone(w.time_zone);
  }, []);
  useEffect(() => {
    void action.run(async () => {
      const [s, w] = await Promise.all([
        api.get<SupportSettings>('/support/settings'),
        api.get<DeletionWindow>('/deletion-jobs/window'),
      ]);
      setSettings(s);
      setDays(String(s.recycle_bin_days));
      setMissed(String(s.missed_after_seconds));
      showWindow(w);
    });
  }, [api, action.run, showWindow]);
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Org settings</h1>
      <ErrorNote error={action.error} />
      {saved && (
        <p className="notice" role="status">
          {saved}
        </p>
      )}
      {!settings && !action.error && <Busy label="Loading settings…" />}
      {settings && (
        <form
          className="settings-form"
          aria-label="Retention and support"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const s = await api.patch<SupportSettings>('/support/settings', {
                recycle_bin_days: Number(days),
                missed_after_seconds: Number(missed),
              });
              setSettings(s);
              setSaved('Retention and support settings saved.');
            });
          }}
        >
          <h2>Retention and support</h2>
          <label>
            Days a deleted chat stays in the recycle bin
            <input
              type="number"
              min={1}
              max={3650}
              value={days}
              onChange={(e) => setDays(e.target.value)}
              required
            />
          </label>
          <label>
            Seconds a waiting chat may wait before it is missed
            <input
              type="number"
              min={10}
              max={86400}
              value={missed}
              onChange={(e) => setMissed(e.target.value)}
              required
            />
          </label>
          <button type="submit" disabled={action.busy}>
            Save retention
          </button>
        </form>
      )}
      {win && (
        <form
          className="settings-form"
          aria-label="Off-peak window"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              showWindow(
                await api.put<DeletionWindow>(
                  '/deletion-jobs/window',
                  anyTime ? { any_time: true } : { start, end, time_zone: zone },
                ),
              );
              setSaved('Off-peak window saved.');
            });
          }}
        >
          <h2>Off-peak window for deletion jobs</h2>
          <p>
            {win.any_time
              ? 'Deletion jobs run at any time.'
              : `Jobs run from ${win.start} to ${win.end} (${win.time_zone}); ${
                  win.open_now ? 'open now' : `next opening ${time(win.next_opening)}`
                }${win.source === 'default' ? ' (the server default)' : ''}.`}
          </p>
          <label className="row">
            <input type="checkbox" checked={anyTime} onChange={(e) => setAnyTime(e.target.checked)} /> Any
            time
          </label>
          {!anyTime && (
            <>
              <label>
                Opens at
                <input type="time" value={start} onChange={(e) => setStart(e.target.value)} required />
              </label>
              <label>
                Closes at
                <input type="time" value={end} onChange={(e) => setEnd(e.target.value)} required />
              </label>
              <label>
                Time zone
                <input
                  value={zone}
                  onChange={(e) => setZone(e.target.value)}
                  placeholder="Europe/Amsterdam"
                />
              </label>
            </>
          )}
          <button type="submit" disabled={action.busy}>
            Save window
          </button>
        </form>
      )}
      <TeamChatSettings session={session} />
      <section className="settings-form" aria-labelledby="quotas-title">
        <h2 id="quotas-title">Quotas</h2>
        <p>
          Quotas (tokens per person, members per conversation, …) are set for the whole server by its{' '}
          <code>QUOTA_*</code> environment variables; the API has no per-org quota setting yet, so they are
          not editable here.
        </p>
      </section>
    </section>
  );
}

const AUDIT_ACTIONS = [
  'support.picked_up',
  'support.transferred',
  'support.ended',
  'conversation.deleted',
  'conversation.restored',
  'conversation.purged',
  'deletion_job.created',
];

interface AuditEvent {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  created_at: string;
}

/** The audit log, newest first, filtered by action and target. */
export function AuditLog({ session }: { session: Session }) {
  const { api, names } = session;
  const [actionFilter, setActionFilter] = useState('');
  const [target, setTarget] = useState('');
  const [applied, setApplied] = useState({ action: '', target: '' });
  const [page, setPage] = useState<Page<AuditEvent> | null>(null);
  const action = useAction();
  const load = useCallback(
    async (cursor: string | null) => {
      const next = await api.get<Page<AuditEvent>>(
        `/audit-events${query({ action: applied.action, target_id: applied.target.trim(), limit: 50, cursor })}`,
      );
      setPage((prev) =>
        cursor && prev ? { items: [...prev.items, ...next.items], next_cursor: next.next_cursor } : next,
      );
    },
    [api, applied],
  );
  useEffect(() => {
    setPage(null);
    void action.run(() => load(null));
  }, [load, action.run]);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form
        className="inline-form"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ action: actionFilter, target });
        }}
      >
        <label>
          Action
          <select value={actionFilter} onChange={(e) => setActionFilter(e.target.value)}>
            <option value="">Any action</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          Target id
          <input
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            placeholder="a conversation or job id"
          />
        </label>
        <button type="submit" disabled={action.busy}>
          Filter
        </button>
      </form>
      <ErrorNote error={action.error} />
      {page === null && !action.error && <Busy label="Loading the audit log…" />}
      {page?.items.length === 0 && <Empty>No audit events match.</Empty>}
      {page && page.items.length > 0 && (
        <table>
          <caption className="sr-only">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((ev) => (
              <tr key={ev.id}>
                <td data-label="When" title={fullTime(ev.created_at)}>
                  <RelativeTime at={ev.created_at} />
                </td>
                <td data-label="Who">
                  {ev.actor_id ? (names.get(ev.actor_id) ?? ev.actor_id) : 'the system'}
                </td>
                <td data-label="Action">
                  <code>{ev.action}</code>
                </td>
                <td data-label="Target">
                  {ev.target_type} <code>{ev.target_id}</code>
                </td>
                <td data-label="Details" className="details-cell">
                  <code>{JSON.stringify(ev.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.next_cursor && (
        <button
          type="button"
          disabled={action.busy}
          onClick={() => void action.run(() => load(page.next_cursor))}
        >
          Load older events
        </button>
      )}
    </section>
  );
}
