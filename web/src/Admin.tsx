import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { NavLink, useParams } from 'react-router';
import { Apps, RateLimits, Webhooks } from './AdminMore.tsx';
import { AuditLog, Departments, OrgSettings, People } from './AdminOrg.tsx';
import type { Session } from './App.tsx';
import type { BinItem, DeletionJob, Page } from './api.ts';
import { Busy, Empty, ErrorNote, plural, time, useAction } from './ui.tsx';

const TABS: [string, string, (session: Session) => ReactNode][] = [
  ['recycle-bin', 'Recycle bin', (s) => <RecycleBin session={s} />],
  ['jobs', 'Deletion jobs', (s) => <DeletionJobs session={s} />],
  ['people', 'People', (s) => <People session={s} />],
  ['departments', 'Departments', (s) => <Departments session={s} />],
  ['settings', 'Org settings', (s) => <OrgSettings session={s} />],
  ['audit', 'Audit log', (s) => <AuditLog session={s} />],
  ['webhooks', 'Webhooks', (s) => <Webhooks session={s} />],
  ['tokens', 'Tokens', (s) => <Tokens session={s} />],
  ['apps', 'API apps', (s) => <Apps session={s} />],
  ['limits', 'Rate limits', (s) => <RateLimits session={s} />],
];

/** The admin views, one URL each: /admin/people, /admin/audit, … */
export function AdminViews({ session }: { session: Session }) {
  const { tab } = useParams();
  const view = TABS.find(([id]) => id === tab);
  // On a phone the views' links scroll sideways: keep the current one in sight.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the view changes
  useEffect(() => {
    document.querySelector('.subnav a.active')?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [tab]);
  return (
    <main className="admin">
      <nav aria-label="Admin" className="subnav">
        {TABS.map(([id, label]) => (
          <NavLink key={id} to={`/admin/${id}`} className="tab">
            {label}
          </NavLink>
        ))}
      </nav>
      {view ? <div key={view[0]}>{view[2](session)}</div> : <Empty>There is no admin view “{tab}”.</Empty>}
    </main>
  );
}

interface BulkResult {
  items: { id: string; result: string; code: string | null; message: string | null }[];
  done: number;
  refused: number;
}

function RecycleBin({ session }: { session: Session }) {
  const { api } = session;
  const [items, setItems] = useState<BinItem[] | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const action = useAction();
  const load = useCallback(
    () => action.run(async () => setItems((await api.get<Page<BinItem>>('/recycle-bin?limit=100')).items)),
    [api, action.run],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const act = (verb: 'restore' | 'purge', item: BinItem) =>
    action.run(async () => {
      const r = await api.post<BulkResult>(`/recycle-bin/${verb}`, { ids: [item.id] });
      const first = r.items[0];
      setResult(
        first?.result === 'done'
          ? `${verb === 'restore' ? 'Restored' : 'Purged'} chat #${String(item.reference_id ?? item.id)}.`
          : `Refused: ${first?.message ?? 'unknown reason'}`,
      );
      setItems((await api.get<Page<BinItem>>('/recycle-bin?limit=100')).items);
    });
  return (
    <section aria-labelledby="bin-title">
      <h1 id="bin-title">Recycle bin</h1>
      <p>Deleted support chats stay here until their purge time. Restore brings a chat back to every list.</p>
      {result && (
        <p className="notice" role="status">
          {result}
        </p>
      )}
      <ErrorNote error={action.error} />
      {items === null && <Busy label="Loading the recycle bin…" />}
      {items?.length === 0 && <Empty>The recycle bin is empty.</Empty>}
      {items && items.length > 0 && (
        <table>
          <caption className="sr-only">Conversations in the recycle bin</caption>
          <thead>
            <tr>
              <th scope="col">Chat</th>
              <th scope="col">Visitor</th>
              <th scope="col">Deleted</th>
              <th scope="col">Purged at</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((it) => {
              const label = `#${String(it.reference_id ?? it.id)} ${String(it.question ?? it.title ?? '')}`;
              return (
                <tr key={it.id}>
                  <td data-label="Chat">{label}</td>
                  <td data-label="Visitor">{(it.visitor as { name?: string } | undefined)?.name ?? '—'}</td>
                  <td data-label="Deleted">{time(it.deleted_at)}</td>
                  <td data-label="Purged at">{time(it.purge_at)}</td>
                  <td data-label="Actions">
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Restore ${label}`}
                      onClick={() => void act('restore', it)}
                    >
                      Restore
                    </button>{' '}
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Purge ${label}`}
                      onClick={() => window.confirm(`Purge ${label} for good?`) && void act('purge', it)}
                    >
                      Purge
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const DONE = new Set(['completed', 'failed', 'cancelled']);

function JobCard({ job }: { job: DeletionJob }) {
  const pct = job.progress.percent ?? (DONE.has(job.status) ? 100 : 0);
  return (
    <article className="job" aria-label={`${job.dry_run ? 'Dry run' : 'Deletion job'} ${job.id}`}>
      <header>
        <strong>{job.dry_run ? 'Dry run' : 'Deletion'}</strong> <code>{job.id}</code>{' '}
        <span className={`badge job-${job.status}`}>{job.status}</span>
      </header>
      <progress max={100} value={pct} aria-label={`Progress of ${job.id}`}>
        {pct}%
      </progress>
      <p>
        {job.dry_run ? 'Would delete' : 'Deleted'} {plural(job.counts.conversations_deleted, 'conversation')}{' '}
        and {plural(job.counts.messages_deleted, 'message')}; skipped {job.counts.conversations_skipped}.
        {job.status === 'queued' && job.not_before
          ? ` Starts at ${time(String(job.not_before))} (off-peak).`
          : ''}
      </p>
      {job.error ? <p className="error">{JSON.stringify(job.error)}</p> : null}
      <small>Submitted {time(job.submitted_at)}</small>
    </article>
  );
}

function DeletionJobs({ session }: { session: Session }) {
  const { api } = session;
  const [mode, setMode] = useState<'ids' | 'customer'>('ids');
  const [ids, setIds] = useState('');
  const [customer, setCustomer] = useState('');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [jobs, setJobs] = useState<DeletionJob[] | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    setJobs((await api.get<Page<DeletionJob>>('/deletion-jobs?limit=20')).items);
  }, [api]);
  useEffect(() => {
    void load().catch(() => setJobs([]));
  }, [load]);
  // Progress: poll while any job is still queued or running.
  useEffect(() => {
    if (!jobs?.some((j) => !DONE.has(j.status))) return;
    const t = setInterval(() => void load().catch(() => undefined), 1000);
    return () => clearInterval(t);
  }, [jobs, load]);

  const submit = (dryRun: boolean) => (e?: FormEvent) => {
    e?.preventDefault();
    const selector =
      mode === 'ids'
        ? { conversation_ids: ids.split(/[\s,]+/).filter(Boolean) }
        : {
            customer_id: customer.trim(),
            ...(start ? { start_date: start } : {}),
            ...(end ? { end_date: end } : {}),
          };
    if (!dryRun && !window.confirm('Delete these conversations for good? This cannot be undone.')) return;
    void action.run(async () => {
      await api.post('/deletion-jobs', { ...selector, dry_run: dryRun });
      await load();
    });
  };

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Deletion jobs</h1>
      <form className="job-form" onSubmit={submit(true)} aria-label="New deletion job">
        <fieldset>
          <legend>What to delete</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'ids'} onChange={() => setMode('ids')} />{' '}
            Conversation ids
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'customer'}
              onChange={() => setMode('customer')}
            />{' '}
            One customer
          </label>
        </fieldset>
        {mode === 'ids' ? (
          <label>
            Conversation ids (comma or space separated)
            <textarea value={ids} onChange={(e) => setIds(e.target.value)} rows={2} />
          </label>
        ) : (
          <>
            <label>
              Customer id (the visitor's external id)
              <input value={customer} onChange={(e) => setCustomer(e.target.value)} />
            </label>
            <label>
              From date
              <input type="date" value={start} onChange={(e) => setStart(e.target.value)} />
            </label>
            <label>
              To date
              <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
            </label>
          </>
        )}
        <div>
          <button type="submit" disabled={action.busy}>
            Preview (dry run)
          </button>{' '}
          <button type="button" className="danger" disabled={action.busy} onClick={() => submit(false)()}>
            Delete for good
          </button>
        </div>
        <ErrorNote error={action.error} />
      </form>
      <h2>Recent jobs</h2>
      {jobs === null && <Busy label="Loading jobs…" />}
      {jobs?.length === 0 && <Empty>No deletion jobs yet.</Empty>}
      <div className="jobs" aria-live="polite">
        {jobs?.map((j) => (
          <JobCard key={j.id} job={j} />
        ))}
      </div>
    </section>
  );
}

interface TokenRecord {
  id: string;
  actor_id: string;
  name: string;
  scopes: string[];
  created_at: string;
  expires_at: number | null;
  revoked_at: string | null;
}

function Tokens({ session }: { session: Session }) {
  const { api, names } = session;
  const [items, setItems] = useState<TokenRecord[] | null>(null);
  const action = useAction();
  const load = useCallback(
    () => action.run(async () => setItems((await api.get<Page<TokenRecord>>('/tokens')).items)),
    [api, action.run],
  );
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">Access tokens</h1>
      <ErrorNote error={action.error} />
      {items === null && <Busy label="Loading tokens…" />}
      {items?.length === 0 && <Empty>No tokens.</Empty>}
      {items && items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Actor</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id}>
                <td data-label="Name">{t.name}</td>
                <td data-label="Actor">{names.get(t.actor_id) ?? t.actor_id}</td>
                <td data-label="Scopes">{t.scopes.join(' ')}</td>
                <td data-label="Created">{time(t.created_at)}</td>
                <td data-label="State">
                  {t.revoked_at ? (
                    `revoked ${time(t.revoked_at)}`
                  ) : (
                    <button
                      type="button"
                      disabled={action.busy || t.id === undefined}
                      aria-label={`Revoke token ${t.name}`}
                      onClick={() =>
                        window.confirm(`Revoke ${t.name}? Clients using it stop working.`) &&
                        action.run(async () => {
                          await api.del(`/tokens/${t.id}`);
                          setItems((await api.get<Page<TokenRecord>>('/tokens')).items);
                        })
                      }
                    >
                      Revoke
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
