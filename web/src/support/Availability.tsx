import { useEffect, useRef, useState } from 'react';
import type { Session } from '../App.tsx';
import { errorText, useAction } from '../ui.tsx';
import { chime, setSoundEnabled, soundEnabled } from './sound.ts';
import type { Availability } from './types.ts';
import { useSupportQueue, useTitleBadge } from './useSupportQueue.ts';

/**
 * The operator's corner of the top bar: available / away (which decides whether widgets offer a
 * chat), the new-chat sound, and, out of sight, the waiting count in the document title.
 */
export function SupportTopbar({ session }: { session: Session }) {
  const { api, me } = session;
  const [status, setStatus] = useState<Availability['status'] | null>(null);
  const [sound, setSound] = useState(soundEnabled);
  const action = useAction();

  useEffect(() => {
    api
      .get<{ items: Availability[] }>('/support/availability')
      .then((r) => setStatus(r.items.find((a) => a.actor_id === me.actor.id)?.status ?? 'away'))
      .catch(() => setStatus('away'));
  }, [api, me.actor.id]);

  const available = status === 'available';
  return (
    <div className="support-topbar">
      <button
        type="button"
        role="switch"
        aria-checked={available}
        className={`availability ${available ? 'is-available' : 'is-away'}`}
        disabled={status === null || action.busy}
        title={
          available
            ? 'Widgets offer a chat; click to go away'
            : 'Widgets offer a message form; click to be available'
        }
        onClick={() =>
          action.run(async () => {
            const next = available ? 'away' : 'available';
            const r = await api.put<Availability>('/support/availability', { status: next });
            setStatus(r.status);
          })
        }
      >
        <span className="dot" aria-hidden="true" />
        <span className="sr-only">Available for support chats: </span>
        {status === null ? '…' : available ? 'Available' : 'Away'}
      </button>
      <button
        type="button"
        role="switch"
        aria-checked={sound}
        className="sound-toggle"
        title="Play a sound when a new chat waits"
        onClick={() => {
          setSoundEnabled(!sound);
          setSound(!sound);
        }}
      >
        <BellIcon off={!sound} />
        <span className="sr-only">Sound for new chats</span>
      </button>
      {action.error ? (
        <span className="error" role="alert">
          {errorText(action.error)}
        </span>
      ) : null}
      <WaitingAlerts session={session} />
    </div>
  );
}

/** A bell (crossed out when the sound is off); no emoji, so no font is needed. */
function BellIcon({ off }: { off: boolean }) {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        d="M12 3a6 6 0 0 0-6 6v3.5L4.5 16h15L18 12.5V9a6 6 0 0 0-6-6Zm-2 14.5a2 2 0 0 0 4 0"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinejoin="round"
      />
      {off && <path d="M4 4l16 16" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />}
    </svg>
  );
}

/** "(2) Parley console" while chats wait, and the chime when a new one arrives. */
function WaitingAlerts({ session }: { session: Session }) {
  const queue = useSupportQueue(session);
  useTitleBadge(queue.waiting.length, queue.loaded);
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!queue.loaded) return;
    const ids = new Set(queue.waiting.map((c) => c.id));
    const before = seen.current;
    seen.current = ids;
    if (before && [...ids].some((id) => !before.has(id))) chime();
  }, [queue.loaded, queue.waiting]);
  return null;
}
