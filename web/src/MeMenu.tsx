import { useEffect, useState } from 'react';
import type { Session } from './App.tsx';
import { ErrorNote, useAction } from './ui.tsx';

interface Notifications {
  digest_minutes: number | null;
  effective_digest_minutes: number;
}

const DIGEST_CHOICES: [string, number][] = [
  ['after 10 minutes away', 10],
  ['after 30 minutes away', 30],
  ['after 1 hour away', 60],
  ['after 4 hours away', 240],
  ['after 1 day away', 1440],
  ['never', 0],
];

/**
 * "Me" in the top bar: who you are, your presence (set yourself away, or back; `PUT
 * /presence/me`) and when unread mentions and direct messages are mailed to you
 * (`/me/notifications`: the org's default, a delay of your own, or never).
 */
export function MeMenu({ session }: { session: Session }) {
  const { api, me, stream } = session;
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [notes, setNotes] = useState<Notifications | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const role = me.actor.role ?? me.actor.kind;

  useEffect(() => {
    if (!open) return;
    setSaved(null);
    void action.run(async () => {
      const [p, n] = await Promise.all([
        api.get<{ items: { actor_id: string; status: string }[] }>(`/presence?ids=${me.actor.id}`),
        api.get<Notifications>('/me/notifications'),
      ]);
      setStatus(p.items.find((x) => x.actor_id === me.actor.id)?.status ?? 'online');
      setNotes(n);
    });
  }, [open, api, me.actor.id, action.run]);

  // Your presence as others see it, live (another tab may set you away).
  useEffect(
    () =>
      stream.on((e) => {
        if (e.event !== 'presence.changed') return;
        const d = e.data as { actor_id: string; status: string };
        if (d.actor_id === me.actor.id) setStatus(d.status);
      }),
    [stream, me.actor.id],
  );

  const setPresence = (next: 'away' | 'online') =>
    action.run(async () => {
      await api.put('/presence/me', { status: next });
      setStatus(next);
      setSaved(null);
    });

  const setDigest = (value: string) =>
    action.run(async () => {
      const n = await api.patch<Notifications>('/me/notifications', {
        digest_minutes: value === 'default' ? null : Number(value),
      });
      setNotes(n);
      setSaved('Mail setting saved.');
    });

  return (
    <details className="me-menu" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span className="who">
          {me.actor.name} <small>({role})</small>
        </span>
        {status === 'away' && <span className="mark away-mark">away</span>}
        <span className="sr-only"> (Me)</span>
      </summary>
      <section className="me-menu-body" aria-label="Me">
        <p>
          {me.actor.name}
          <br />
          <small>{me.actor.email ?? role}</small>
        </p>
        <p className="me-presence">
          {status === null ? (
            'Presence…'
          ) : status === 'away' ? (
            <>
              You are <strong>away</strong>.{' '}
              <button type="button" disabled={action.busy} onClick={() => void setPresence('online')}>
                I’m back
              </button>
            </>
          ) : (
            <>
              You are <strong>{status}</strong>.{' '}
              <button type="button" disabled={action.busy} onClick={() => void setPresence('away')}>
                Set yourself away
              </button>
            </>
          )}
        </p>
        {notes && (
          <label>
            Mail me unread mentions and direct messages
            <select
              value={notes.digest_minutes === null ? 'default' : String(notes.digest_minutes)}
              disabled={action.busy}
              onChange={(e) => void setDigest(e.target.value)}
            >
              <option value="default">the org’s default</option>
              {DIGEST_CHOICES.map(([label, minutes]) => (
                <option key={minutes} value={minutes}>
                  {label}
                </option>
              ))}
              {notes.digest_minutes !== null &&
                !DIGEST_CHOICES.some(([, m]) => m === notes.digest_minutes) && (
                  <option value={notes.digest_minutes}>after {notes.digest_minutes} minutes away</option>
                )}
            </select>
          </label>
        )}
        {notes && (
          <p className="small">
            {notes.effective_digest_minutes === 0
              ? 'No digest mail is sent to you.'
              : `Now: after ${notes.effective_digest_minutes} minutes away.`}
          </p>
        )}
        {saved && (
          <p className="notice" role="status">
            {saved}
          </p>
        )}
        <ErrorNote error={action.error} />
      </section>
    </details>
  );
}
