import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { Session } from './App.tsx';
import type { Page } from './api.ts';
import { Busy, Empty, ErrorNote, time, useAction } from './ui.tsx';

interface Webhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  active: boolean;
  created_at: string;
}

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
}

/** Webhooks: list and create; a webhook's failed deliveries, each retried on demand. */
export function Webhooks({ session }: { session: Session }) {
  const { api } = session;
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['message.created']);
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<Webhook | null>(null);
  const [failed, setFailed] = useState<Delivery[] | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    setHooks((await api.get<Page<Webhook>>('/webhooks')).items);
  }, [api]);
  useEffect(() => {
    void action.run(async () => {
      await load();
      setEventTypes((await api.get<{ items: string[] }>('/webhooks/event-types')).items);
    });
  }, [api, load, action.run]);

  const showFailed = (w: Webhook) =>
    action.run(async () => {
      setOpen(w);
      setFailed((await api.get<Page<Delivery>>(`/webhooks/${w.id}/deliveries?status=failed&limit=50`)).items);
    });

  const create = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const w = await api.post<Webhook & { secret: string }>('/webhooks', { url, events });
      setSecret(w.secret);
      setUrl('');
      await load();
    });
  };

  return (
    <section aria-labelledby="hooks-title">
      <h1 id="hooks-title">Webhooks</h1>
      <ErrorNote error={action.error} />
      <form className="job-form" onSubmit={create} aria-label="New webhook">
        <label>
          Webhook URL
          <input
            type="url"
            required
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://…"
          />
        </label>
        <label>
          Events
          <select
            multiple
            value={events}
            size={Math.min(6, Math.max(2, eventTypes.length))}
            onChange={(e) => setEvents([...e.target.selectedOptions].map((o) => o.value))}
          >
            {eventTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <div>
          <button type="submit" disabled={action.busy || events.length === 0}>
            Create webhook
          </button>
        </div>
        {secret && (
          <p className="notice" role="status">
            Signing secret (shown once): <code>{secret}</code>
          </p>
        )}
      </form>
      {hooks === null && !action.error && <Busy label="Loading webhooks…" />}
      {hooks?.length === 0 && <Empty>No webhooks yet.</Empty>}
      {hooks && hooks.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            {hooks.map((w) => (
              <tr key={w.id}>
                <td data-label="URL">{w.url}</td>
                <td data-label="Events">{w.events.join(', ')}</td>
                <td data-label="State">{w.active ? 'active' : 'paused'}</td>
                <td data-label="Deliveries">
                  <button
                    type="button"
                    aria-label={`Failed deliveries of ${w.url}`}
                    onClick={() => void showFailed(w)}
                  >
                    Failed deliveries
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && (
        <section aria-labelledby="failed-title">
          <h2 id="failed-title">Failed deliveries of {open.url}</h2>
          {failed === null && <Busy label="Loading deliveries…" />}
          {failed?.length === 0 && <Empty>No failed deliveries.</Empty>}
          <ul className="conv-list">
            {failed?.map((d) => (
              <li key={d.id} className="queue-item">
                <span>
                  <strong>{d.event}</strong> — {d.attempts} attempts, last{' '}
                  {d.last_error ?? d.last_status_code ?? '—'} at {time(d.last_attempt_at)}
                </span>
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() =>
                    action.run(async () => {
                      const retried = await api.post<Delivery>(
                        `/webhooks/${open.id}/deliveries/${d.id}/retry`,
                        {},
                      );
                      setFailed((prev) => prev?.map((x) => (x.id === d.id ? retried : x)) ?? null);
                    })
                  }
                >
                  Retry
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

interface RateState {
  group: string;
  policy: { points: number; duration_s: number; block_s: number };
  remaining: number;
  reset_at: string | null;
  limited: boolean;
}

export function RateLimits({ session }: { session: Session }) {
  const { api } = session;
  const [items, setItems] = useState<RateState[] | null>(null);
  const action = useAction();
  useEffect(() => {
    void action.run(async () => setItems((await api.get<{ items: RateState[] }>('/rate-limits')).items));
  }, [api, action.run]);
  return (
    <section aria-labelledby="limits-title">
      <h1 id="limits-title">Rate limits</h1>
      <p>Your own state in each group, with the org's policy.</p>
      <ErrorNote error={action.error} />
      {items === null && !action.error && <Busy label="Loading rate limits…" />}
      {items && (
        <table>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Policy</th>
              <th scope="col">Remaining</th>
              <th scope="col">Resets</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.group}>
                <td data-label="Group">{s.group}</td>
                <td data-label="Policy">
                  {s.policy.points} per {s.policy.duration_s} s
                  {s.policy.block_s ? `, lock ${s.policy.block_s} s` : ''}
                </td>
                <td data-label="Remaining">{s.remaining}</td>
                <td data-label="Resets">{s.reset_at ? time(s.reset_at) : '—'}</td>
                <td data-label="State">{s.limited ? 'limited' : 'ok'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface AppRecord {
  id: string;
  app_id: number;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export function Apps({ session }: { session: Session }) {
  const { api } = session;
  const [items, setItems] = useState<AppRecord[] | null>(null);
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction();
  const load = useCallback(async () => setItems((await api.get<Page<AppRecord>>('/apps')).items), [api]);
  useEffect(() => {
    void action.run(load);
  }, [load, action.run]);
  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">API apps</h1>
      <ErrorNote error={action.error} />
      <form
        className="job-form"
        aria-label="New API app"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const app = await api.post<AppRecord & { server_secret: string }>('/apps', { name });
            setSecret(`App ${app.app_id}: server secret ${app.server_secret}`);
            setName('');
            await load();
          });
        }}
      >
        <label>
          App name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div>
          <button type="submit" disabled={action.busy}>
            Create app
          </button>
        </div>
        {secret && (
          <p className="notice" role="status">
            {secret} (shown once)
          </p>
        )}
      </form>
      {items?.length === 0 && <Empty>No API apps yet.</Empty>}
      {items && items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">App id</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id}>
                <td data-label="Name">{a.name}</td>
                <td data-label="App id">{a.app_id}</td>
                <td data-label="Created">{time(a.created_at)}</td>
                <td data-label="State">
                  {a.revoked_at ? (
                    `revoked ${time(a.revoked_at)}`
                  ) : (
                    <button
                      type="button"
                      aria-label={`Revoke app ${a.name}`}
                      disabled={action.busy}
                      onClick={() =>
                        window.confirm(`Revoke ${a.name}?`) &&
                        action.run(async () => {
                          await api.del(`/apps/${a.id}`);
                          await load();
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
