import { useState } from 'react';
import type { Session } from '../App.tsx';
import type { Conversation, MemberState } from '../api.ts';
import { Avatar, plural, time, type useAction } from '../ui.tsx';

const MUTE_CHOICES: [string, number][] = [
  ['1 hour', 3_600_000],
  ['8 hours', 8 * 3_600_000],
  ['1 day', 86_400_000],
  ['1 week', 7 * 86_400_000],
  ['Forever', -1],
];

/** The thread's title and your actions on it: mute, pin to the list, hide, leave. */
export function ThreadHeader({
  session,
  id,
  conv,
  title,
  action,
  setMe,
  onBack,
  onGone,
}: {
  session: Session;
  id: string;
  conv: Conversation;
  title: string;
  action: ReturnType<typeof useAction>;
  setMe: (state: MemberState) => void;
  onBack: () => void;
  onGone: () => void;
}) {
  const { api } = session;
  const [muteFor, setMuteFor] = useState(String(3_600_000));
  const [more, setMore] = useState(false);
  const mutedUntil = conv.me?.muted_until;
  return (
    <header className={`thread-head ${more ? 'more-open' : ''}`}>
      <button type="button" className="back" onClick={onBack}>
        ← Back<span className="sr-only"> to the list</span>
      </button>
      <Avatar name={title} kind={conv.kind} size="sm" />
      <div className="thread-title">
        <h2>{title}</h2>
        <span className="meta">
          {plural(conv.participant_count, 'member')}
          {conv.me?.muted && <span className="muted-inline"> · muted</span>}
        </span>
      </div>
      {conv.me && (
        <button
          type="button"
          className="thread-more"
          aria-expanded={more}
          aria-controls={`thread-actions-${id}`}
          onClick={() => setMore((o) => !o)}
        >
          ⋯<span className="sr-only"> Conversation actions</span>
        </button>
      )}
      {conv.me && (
        <div className="thread-actions" id={`thread-actions-${id}`}>
          {conv.me.muted ? (
            <>
              <span className="muted-mark" role="status">
                Muted {mutedUntil === -1 || mutedUntil === null ? 'forever' : `until ${time(mutedUntil)}`}
              </span>
              <button
                type="button"
                disabled={action.busy}
                onClick={() => action.run(async () => setMe(await api.post(`/conversations/${id}/unmute`)))}
              >
                Unmute
              </button>
            </>
          ) : (
            <>
              <label>
                Mute for{' '}
                <select value={muteFor} onChange={(e) => setMuteFor(e.target.value)}>
                  {MUTE_CHOICES.map(([label, ms]) => (
                    <option key={label} value={ms}>
                      {label}
                    </option>
                  ))}
                </select>
              </label>
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  action.run(async () => {
                    const ms = Number(muteFor);
                    setMe(
                      await api.post(`/conversations/${id}/mute`, {
                        until: ms === -1 ? -1 : Date.now() + ms,
                      }),
                    );
                  })
                }
              >
                Mute
              </button>
            </>
          )}
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              action.run(async () =>
                setMe(await (conv.me?.pinned ? api.del : api.put)(`/conversations/${id}/pin-in-list`)),
              )
            }
          >
            {conv.me.pinned ? 'Unpin from list' : 'Pin to list'}
          </button>
          {conv.me.hidden ? (
            <button
              type="button"
              disabled={action.busy}
              onClick={() => action.run(async () => setMe(await api.post(`/conversations/${id}/unhide`)))}
            >
              Unhide
            </button>
          ) : (
            <button
              type="button"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  await api.post(`/conversations/${id}/hide`);
                  onGone();
                })
              }
            >
              Hide for me
            </button>
          )}
          {conv.kind !== 'direct' && (
            <button
              type="button"
              disabled={action.busy}
              onClick={() =>
                window.confirm(`Leave “${title}”?`) &&
                action.run(async () => {
                  await api.post(`/conversations/${id}/leave`);
                  onGone();
                })
              }
            >
              Leave
            </button>
          )}
        </div>
      )}
    </header>
  );
}
