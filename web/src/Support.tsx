import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { Session } from './App.tsx';
import { type Actor, ApiError, type Page, type SupportChat } from './api.ts';
import { MissedList } from './support/QueueSection.tsx';
import { useSupportQueue } from './support/useSupportQueue.ts';
import { Busy, Empty, ErrorNote, errorText, time, useAction } from './ui.tsx';

/** The operator's view: waiting chats, live; pickup (a lost race names the winner), transfer, end. */
export function SupportQueue({ session }: { session: Session }) {
  const { api, stream } = session;
  const [queue, setQueue] = useState<SupportChat[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [current, setCurrent] = useState<SupportChat | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [operators, setOperators] = useState<Actor[]>([]);
  const [transferTo, setTransferTo] = useState('');
  const action = useAction();

  const refresh = useCallback(async () => {
    try {
      const page = await api.get<Page<SupportChat>>('/support/queue?limit=50');
      setQueue(page.items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
    api
      .get<Page<Actor>>('/actors?kind=user&limit=100')
      .then((p) => setOperators(p.items.filter((a) => ['operator', 'admin', 'owner'].includes(a.role ?? ''))))
      .catch(() => undefined);
  }, [api, refresh]);

  useEffect(
    () =>
      stream.on((e) => {
        if (!e.event.startsWith('support.')) return;
        void refresh();
        setCurrent((c) => {
          if (!c || e.conversation_id !== c.id) return c;
          void api
            .get<SupportChat>(`/support/chats/${c.id}`)
            .then(setCurrent)
            .catch(() => undefined);
          return c;
        });
      }),
    [stream, refresh, api],
  );

  const pickup = (chat: SupportChat) =>
    action.run(async () => {
      setNotice(null);
      try {
        setCurrent(await api.post<SupportChat>(`/support/chats/${chat.id}/pickup`));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'chat_not_waiting') {
          const owner = (err.details as { owner?: { name?: string } } | null)?.owner?.name;
          setNotice(`Too late: ${owner ?? 'another operator'} picked up chat #${chat.reference_id} first.`);
          void refresh();
          return;
        }
        throw err;
      }
      void refresh();
    });

  return (
    <main className="split has-selection-desktop">
      <section className="list-pane" aria-labelledby="queue-title">
        <h1 id="queue-title">Waiting support chats</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorNote error={error ?? action.error} />
        {queue === null && !error && <Busy label="Loading the queue…" />}
        {queue?.length === 0 && <Empty>Nobody is waiting. New chats appear here live.</Empty>}
        <ul className="conv-list" aria-label="Support queue">
          {queue?.map((chat) => (
            <li key={chat.id} className="queue-item">
              <div>
                <strong>
                  #{chat.reference_id} {chat.visitor?.name ?? 'Visitor'}
                </strong>{' '}
                <small>{chat.department?.name ?? 'No department'}</small>
                <p>{chat.question}</p>
                <time>{time(chat.created_at)}</time>
              </div>
              <button
                type="button"
                disabled={action.busy}
                aria-label={`Pick up chat #${chat.reference_id} from ${chat.visitor?.name ?? 'visitor'}`}
                onClick={() => void pickup(chat)}
              >
                Pick up
              </button>
            </li>
          ))}
        </ul>
        <MissedSection session={session} />
      </section>
      <section className="thread-pane" aria-label="Support chat">
        {!current ? (
          <Empty>Pick up a chat to see the visitor's details.</Empty>
        ) : (
          <div className="thread">
            <h2>
              Chat #{current.reference_id}: {current.state}
            </h2>
            <dl className="details" aria-label="Visitor details">
              <dt>Visitor</dt>
              <dd>{current.visitor?.name}</dd>
              <dt>Email</dt>
              <dd>{current.visitor?.email ?? '—'}</dd>
              <dt>Phone</dt>
              <dd>{current.visitor?.phone ?? '—'}</dd>
              <dt>Country</dt>
              <dd>{current.visitor?.country ?? '—'}</dd>
              <dt>Channel</dt>
              <dd>{current.visitor?.channel ?? '—'}</dd>
              <dt>Question</dt>
              <dd>{current.question ?? '—'}</dd>
              <dt>Department</dt>
              <dd>{current.department?.name ?? '—'}</dd>
              <dt>Attended by</dt>
              <dd>{current.attender?.name ?? '—'}</dd>
            </dl>
            {current.state === 'connected' && (
              <div className="thread-actions">
                <label>
                  Transfer to{' '}
                  <select value={transferTo} onChange={(e) => setTransferTo(e.target.value)}>
                    <option value="">Choose an operator</option>
                    {operators
                      .filter((o) => o.id !== current.attender?.id)
                      .map((o) => (
                        <option key={o.id} value={o.id}>
                          {o.name}
                        </option>
                      ))}
                  </select>
                </label>
                <button
                  type="button"
                  disabled={!transferTo || action.busy}
                  onClick={() =>
                    action.run(async () =>
                      setCurrent(
                        await api.post<SupportChat>(`/support/chats/${current.id}/transfer`, {
                          operator_id: transferTo,
                        }),
                      ),
                    )
                  }
                >
                  Transfer
                </button>
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() =>
                    action.run(async () =>
                      setCurrent(await api.post<SupportChat>(`/support/chats/${current.id}/end`)),
                    )
                  }
                >
                  End chat
                </button>
              </div>
            )}
            {(current.state === 'ended' || current.state === 'missed') && (
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  action.run(async () => {
                    const r = await api.post<{ items: { result: string; message: string | null }[] }>(
                      '/conversations/delete',
                      { ids: [current.id] },
                    );
                    const first = r.items[0];
                    if (first?.result !== 'done')
                      throw new Error(first?.message ?? 'The chat was not deleted');
                    setNotice(`Chat #${current.reference_id} moved to the recycle bin.`);
                    setCurrent(null);
                  })
                }
              >
                Delete to recycle bin
              </button>
            )}
            {action.error ? <p className="error">{errorText(action.error)}</p> : null}
            <p>
              <Link to={`/conversations/${current.id}`}>Open the conversation</Link> to answer the visitor,
              with their details beside it.
            </p>
          </div>
        )}
      </section>
    </main>
  );
}

/** Missed chats (left while nobody was available), newest first, live with the shared queue. */
function MissedSection({ session }: { session: Session }) {
  const queue = useSupportQueue(session);
  return (
    <section aria-labelledby="missed-title" className="missed-section">
      <h2 id="missed-title">
        Missed chats <span className="missed-badge">{queue.missed.length}</span>
      </h2>
      {queue.loaded && queue.missed.length === 0 ? (
        <Empty>No missed chats.</Empty>
      ) : (
        <MissedList chats={queue.missed} selected={null} />
      )}
    </section>
  );
}
