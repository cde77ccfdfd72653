import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { Session } from './App.tsx';
import {
  ApiError,
  type Conversation,
  type MemberState,
  type Message,
  newClientId,
  type Page,
  type Pin,
  query,
} from './api.ts';
import type { StreamEvent } from './stream.ts';
import { Busy, Empty, ErrorNote, time, useAction } from './ui.tsx';

type Filter = 'all' | 'unread' | 'muted' | 'drafts' | 'pinned' | 'hidden';

const FILTER_QUERY: Record<Filter, Record<string, string>> = {
  all: {},
  unread: {},
  muted: { muted: 'true' },
  drafts: { drafts: 'true' },
  pinned: { pinned: 'true' },
  hidden: { hidden: 'true' },
};

/** A conversation's name: its title, or for a direct chat the other person's name. */
export function conversationTitle(c: Conversation, directNames: Map<string, string>): string {
  if (c.title) return c.title;
  if (c.kind === 'direct') return directNames.get(c.id) ?? 'Direct chat';
  if (c.kind === 'support') return 'Support chat';
  return `${c.kind} ${c.id}`;
}

export function Conversations({ session }: { session: Session }) {
  const { api, stream, me } = session;
  const [filter, setFilter] = useState<Filter>('all');
  const [kind, setKind] = useState('');
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const sentinel = useRef<HTMLLIElement | null>(null);
  const [directNames, setDirectNames] = useState<Map<string, string>>(new Map());
  const asked = useRef(new Set<string>());

  // A direct chat has no title: name it after the other member.
  useEffect(() => {
    for (const c of items) {
      if (c.kind !== 'direct' || c.title || asked.current.has(c.id)) continue;
      asked.current.add(c.id);
      api
        .get<Page<{ id: string; name: string }>>(`/conversations/${c.id}/members?fields=id,name`)
        .then((page) => {
          const other = page.items.find((m) => m.id !== me.actor.id);
          if (other) setDirectNames((prev) => new Map(prev).set(c.id, other.name));
        })
        .catch(() => undefined);
    }
  }, [items, api, me.actor.id]);

  const load = useCallback(
    async (from: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await api.get<Page<Conversation>>(
          `/conversations${query({ ...FILTER_QUERY[filter], kind, limit: 20, cursor: from })}`,
        );
        setItems((prev) => {
          const merged = from ? [...prev] : [];
          for (const c of page.items) if (!merged.some((m) => m.id === c.id)) merged.push(c);
          return merged;
        });
        setCursor(page.next_cursor);
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [api, filter, kind],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // Infinite scroll: the last row loads the next page when it comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !cursor) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(cursor);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, load, loading]);

  useEffect(
    () =>
      stream.on((e: StreamEvent) => {
        if (e.event === 'message.created') {
          const m = (e.data as { message: Message }).message;
          setItems((prev) => {
            const i = prev.findIndex((c) => c.id === m.conversation_id);
            if (i < 0) {
              void load(null);
              return prev;
            }
            const c = prev[i]!;
            if (c.last_message?.id === m.id) return prev;
            const mine = m.sender_id === me.actor.id || selectedRef.current === c.id;
            const unread = mine ? c.unread_count : c.unread_count + 1;
            const updated = { ...c, last_message: m, last_activity_at: m.created_at, unread_count: unread };
            return [updated, ...prev.filter((x) => x.id !== c.id)];
          });
        } else if (e.event === 'member.muted' || e.event === 'member.unmuted' || e.event === 'member.read') {
          // Your own state, changed here or in another tab or device.
          const d = e.data as { conversation_id: string; me: MemberState };
          setItems((prev) =>
            prev.map((c) =>
              c.id === d.conversation_id
                ? { ...c, me: d.me, muted: d.me.muted, unread_count: d.me.unread_count }
                : c,
            ),
          );
        } else if (
          e.event === 'conversation.created' ||
          e.event === 'member.joined' ||
          e.event === 'member.left'
        ) {
          void load(null);
        }
      }),
    [stream, load, me.actor.id],
  );

  const shown = filter === 'unread' ? items.filter((c) => c.unread_count > 0) : items;
  const patchItem = useCallback((id: string, patch: Partial<Conversation>) => {
    setItems((prev) => prev.map((c) => (c.id === id ? { ...c, ...patch } : c)));
  }, []);

  return (
    <main className={`split ${selected ? 'has-selection' : ''}`}>
      <section className="list-pane" aria-labelledby="list-title">
        <h1 id="list-title">Conversations</h1>
        <NewConversation
          session={session}
          onCreated={(c) => {
            setItems((prev) => [c, ...prev.filter((x) => x.id !== c.id)]);
            setSelected(c.id);
          }}
        />
        <div className="filters">
          <label>
            Show{' '}
            <select value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              <option value="all">All</option>
              <option value="unread">Unread</option>
              <option value="muted">Muted</option>
              <option value="drafts">With drafts</option>
              <option value="pinned">Pinned</option>
              <option value="hidden">Hidden</option>
            </select>
          </label>
          <label>
            Kind{' '}
            <select value={kind} onChange={(e) => setKind(e.target.value)}>
              <option value="">Any</option>
              <option value="direct">Direct</option>
              <option value="group">Group</option>
              <option value="channel">Channel</option>
              <option value="support">Support</option>
            </select>
          </label>
        </div>
        <ErrorNote error={error} />
        {!loading && !error && shown.length === 0 && <Empty>No conversations match.</Empty>}
        <ul className="conv-list" aria-label="Conversation list">
          {shown.map((c) => {
            const title = conversationTitle(c, directNames);
            return (
              <li key={c.id}>
                <button
                  type="button"
                  className="conv"
                  aria-current={selected === c.id ? 'true' : undefined}
                  aria-label={`${title}${c.unread_count ? `, ${c.unread_count} unread` : ''}${c.muted ? ', muted' : ''}`}
                  onClick={() => {
                    setSelected(c.id);
                    if (c.unread_count) patchItem(c.id, { unread_count: 0 });
                  }}
                >
                  <span className="conv-title">{title}</span>
                  <span className="conv-marks">
                    {c.me?.pinned && <span className="mark">pinned</span>}
                    {c.muted && <span className="mark">muted</span>}
                    {c.unread_count > 0 && <span className="unread">{c.unread_count}</span>}
                  </span>
                  <span className="conv-last">
                    {c.me?.draft ? (
                      <em>Draft: {c.me.draft}</em>
                    ) : c.last_message ? (
                      c.last_message.deleted ? (
                        <em>message deleted</em>
                      ) : (
                        c.last_message.text
                      )
                    ) : (
                      <em>No messages yet</em>
                    )}
                  </span>
                  <time className="conv-time">{time(c.last_activity_at)}</time>
                </button>
              </li>
            );
          })}
          {cursor && (
            <li ref={sentinel}>
              <button type="button" disabled={loading} onClick={() => void load(cursor)}>
                Load more conversations
              </button>
            </li>
          )}
        </ul>
        {loading && <Busy label="Loading conversations…" />}
      </section>
      <section className="thread-pane" aria-label="Conversation">
        {selected ? (
          <Thread
            key={selected}
            session={session}
            id={selected}
            directNames={directNames}
            onBack={() => setSelected(null)}
            onState={(me) => patchItem(selected, { me, muted: me.muted })}
            onGone={() => {
              setSelected(null);
              void load(null);
            }}
          />
        ) : (
          <Empty>Choose a conversation from the list.</Empty>
        )}
      </section>
    </main>
  );
}

/** Start a direct chat, a group or a channel with people of the org. */
function NewConversation({ session, onCreated }: { session: Session; onCreated: (c: Conversation) => void }) {
  const { api, me, names } = session;
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState('group');
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const action = useAction();
  const people = [...names.entries()].filter(([id]) => id !== me.actor.id);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New conversation
      </button>
    );
  return (
    <form
      className="new-conv"
      aria-label="New conversation"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          const c = await api.post<Conversation>('/conversations', {
            kind,
            member_ids: members,
            ...(kind !== 'direct' && title.trim() ? { title: title.trim() } : {}),
          });
          setOpen(false);
          setTitle('');
          setMembers([]);
          onCreated(c);
        });
      }}
    >
      <label>
        Type{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="direct">Direct chat</option>
          <option value="group">Group</option>
          <option value="channel">Channel</option>
        </select>
      </label>
      {kind !== 'direct' && (
        <label>
          Title{' '}
          <input value={title} onChange={(e) => setTitle(e.target.value)} required={kind === 'channel'} />
        </label>
      )}
      <label>
        {kind === 'direct' ? 'With' : 'Members'}
        <select
          multiple={kind !== 'direct'}
          value={kind === 'direct' ? (members[0] ?? '') : members}
          onChange={(e) => setMembers([...e.target.selectedOptions].map((o) => o.value).filter(Boolean))}
          size={kind === 'direct' ? undefined : Math.min(5, Math.max(2, people.length))}
        >
          {kind === 'direct' && <option value="">Choose a person</option>}
          {people.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <div>
        <button type="submit" disabled={action.busy || (kind === 'direct' && members.length !== 1)}>
          Create
        </button>{' '}
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

const MUTE_CHOICES: [string, number][] = [
  ['1 hour', 3_600_000],
  ['8 hours', 8 * 3_600_000],
  ['1 day', 86_400_000],
  ['1 week', 7 * 86_400_000],
  ['Forever', -1],
];

const PIN_CHOICES: [string, number][] = [
  ['1 hour', 3_600_000],
  ['1 day', 86_400_000],
  ['1 week', 7 * 86_400_000],
  ['Never', -1],
];

function Thread({
  session,
  id,
  directNames,
  onBack,
  onState,
  onGone,
}: {
  session: Session;
  id: string;
  directNames: Map<string, string>;
  onBack: () => void;
  onState: (me: MemberState) => void;
  onGone: () => void;
}) {
  const { api, stream, me, names } = session;
  const [conv, setConv] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Map<string, Message>>(new Map());
  const [older, setOlder] = useState<string | null>(null);
  const [pin, setPin] = useState<Pin | null>(null);
  const [typing, setTyping] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [pinFor, setPinFor] = useState<Message | null>(null);
  const [pinExpiry, setPinExpiry] = useState(String(3_600_000));
  const [muteFor, setMuteFor] = useState(String(3_600_000));
  const action = useAction();
  const bottom = useRef<HTMLLIElement | null>(null);
  const lastTyping = useRef(0);

  const merge = useCallback((list: Message[]) => {
    setMessages((prev) => {
      const next = new Map(prev);
      for (const m of list) next.set(m.id, m);
      return next;
    });
  }, []);

  useEffect(() => {
    (async () => {
      try {
        const [c, page, p] = await Promise.all([
          api.get<Conversation>(`/conversations/${id}`),
          api.get<Page<Message>>(`/conversations/${id}/messages?limit=30`),
          api.get<Pin>(`/conversations/${id}/pin`).catch((err) => {
            if (err instanceof ApiError && err.status === 404) return null;
            throw err;
          }),
        ]);
        setConv(c);
        merge(page.items);
        setOlder(page.next_cursor);
        setPin(p);
        if (c.me?.draft) setText(c.me.draft);
        if (c.me && c.unread_count > 0) void api.post(`/conversations/${id}/read`).catch(() => undefined);
      } catch (err) {
        setLoadError(err);
      }
    })();
  }, [api, id, merge]);

  useEffect(
    () =>
      stream.on((e) => {
        if (e.conversation_id !== id && (e.data as { conversation_id?: string }).conversation_id !== id)
          return;
        if (e.event === 'message.created' || e.event === 'message.edited' || e.event === 'message.deleted') {
          merge([(e.data as { message: Message }).message]);
          if (e.event === 'message.created')
            void api.post(`/conversations/${id}/read`).catch(() => undefined);
        } else if (e.event === 'pin.created') {
          const d = e.data as { message: Message; creator_id: string; expiry_time: number };
          setPin({
            conversation_id: id,
            message: d.message,
            creator: { id: d.creator_id, name: names.get(d.creator_id) ?? d.creator_id },
            expiry_time: d.expiry_time,
          });
        } else if (e.event === 'member.muted' || e.event === 'member.unmuted') {
          const me = (e.data as { me: MemberState }).me;
          setConv((c) => (c ? { ...c, me, muted: me.muted } : c));
        } else if (e.event === 'pin.deleted') {
          setPin(null);
        } else if (e.event === 'typing.started') {
          const d = e.data as { actor_name?: string };
          setTyping(d.actor_name ?? 'Someone');
        }
      }),
    [stream, id, merge, api, names],
  );

  useEffect(() => {
    if (!typing) return;
    const t = setTimeout(() => setTyping(null), 4000);
    return () => clearTimeout(t);
  }, [typing]);

  const sorted = [...messages.values()].sort((a, b) =>
    a.id.length === b.id.length ? (a.id < b.id ? -1 : 1) : a.id.length - b.id.length,
  );
  const newestId = sorted.at(-1)?.id;
  useEffect(() => {
    if (newestId) bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [newestId]);

  // Expired pins disappear by themselves: drop the banner at its expiry.
  useEffect(() => {
    if (!pin || pin.expiry_time === -1) return;
    const t = setTimeout(() => setPin(null), Math.max(0, pin.expiry_time - Date.now()));
    return () => clearTimeout(t);
  }, [pin]);

  const loadOlder = () =>
    action.run(async () => {
      const page = await api.get<Page<Message>>(
        `/conversations/${id}/messages${query({ limit: 30, cursor: older })}`,
      );
      merge(page.items);
      setOlder(page.next_cursor);
    });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    void action.run(async () => {
      if (editing) {
        merge([await api.patch<Message>(`/conversations/${id}/messages/${editing.id}`, { text: body })]);
        setEditing(null);
      } else {
        const sent = await api.post<Message>(`/conversations/${id}/messages`, {
          text: body,
          client_id: newClientId(),
          ...(replyTo ? { reply_to: replyTo.id } : {}),
        });
        merge([sent]);
        setReplyTo(null);
        draftSaved.current = '';
      }
      setText('');
    });
  };

  const onStateRef = useRef(onState);
  onStateRef.current = onState;
  const setMe = useCallback((state: MemberState) => {
    setConv((c) => (c ? { ...c, me: state, muted: state.muted } : c));
    onStateRef.current(state);
  }, []);

  // The draft is kept on the server (it shows in the list, on every device) once typing pauses.
  const draftSaved = useRef<string | null>(null);
  useEffect(() => {
    if (!conv?.me || editing) return;
    if (draftSaved.current === null) {
      draftSaved.current = conv.me.draft ?? '';
      return;
    }
    const value = text.trim();
    if (value === draftSaved.current) return;
    const t = setTimeout(() => {
      draftSaved.current = value;
      const save = value
        ? api.put<MemberState>(`/conversations/${id}/draft`, { text })
        : api.del<MemberState>(`/conversations/${id}/draft`);
      void save.then((state) => state && setMe(state)).catch(() => undefined);
    }, 1000);
    return () => clearTimeout(t);
  }, [text, conv?.me, editing, api, id, setMe]);

  const onType = (value: string) => {
    setText(value);
    if (Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      stream.send({ type: 'typing', conversation_id: id });
    }
  };

  if (loadError)
    return (
      <div className="thread">
        <button type="button" className="back" onClick={onBack}>
          ← Back to the list
        </button>
        <ErrorNote error={loadError} />
      </div>
    );
  if (!conv) return <Busy label="Loading the conversation…" />;
  const title = conversationTitle(conv, directNames);
  const mutedUntil = conv.me?.muted_until;

  return (
    <div className="thread">
      <header className="thread-head">
        <button type="button" className="back" onClick={onBack}>
          ← Back<span className="sr-only"> to the list</span>
        </button>
        <h2>{title}</h2>
        <span className="meta">{conv.participant_count} members</span>
        {conv.me && (
          <div className="thread-actions">
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
      {pin && (
        <section className="pin-banner" aria-label="Pinned message">
          <span>
            <span className="mark">Pinned</span>{' '}
            <strong>{names.get(pin.message.sender_id) ?? 'Someone'}:</strong> {pin.message.text}
          </span>
          <small>
            pinned by {pin.creator.name}
            {pin.expiry_time === -1 ? ', no expiry' : `, expires ${time(pin.expiry_time)}`}
          </small>
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              action.run(async () => {
                await api.del(`/conversations/${id}/pin`);
                setPin(null);
              })
            }
          >
            Unpin
          </button>
        </section>
      )}
      <ErrorNote error={action.error} />
      <ol className="messages" aria-label="Messages">
        {older && (
          <li>
            <button type="button" disabled={action.busy} onClick={() => void loadOlder()}>
              Load older messages
            </button>
          </li>
        )}
        {sorted.length === 0 && (
          <li>
            <Empty>No messages yet. Say hello.</Empty>
          </li>
        )}
        {sorted.map((m) => {
          const sender = names.get(m.sender_id) ?? 'Someone';
          const parent = m.reply_to_id ? messages.get(m.reply_to_id) : undefined;
          const own = m.sender_id === me.actor.id;
          return (
            <li
              key={m.id}
              className={`message ${own ? 'own' : ''}`}
              aria-label={`${sender}: ${m.deleted ? 'deleted' : m.text}`}
            >
              <div className="message-head">
                <strong>{sender}</strong> <time>{time(m.created_at)}</time>
                {m.edited_at && !m.deleted && <small> (edited)</small>}
              </div>
              {m.reply_to_id && (
                <blockquote className="reply-quote">
                  ↪{' '}
                  {parent
                    ? `${names.get(parent.sender_id) ?? 'Someone'}: ${parent.text}`
                    : 'an earlier message'}
                </blockquote>
              )}
              <p className="message-text">{m.deleted ? <em>This message was deleted.</em> : m.text}</p>
              {!m.deleted && (
                <div className="message-actions">
                  <button
                    type="button"
                    aria-label={`Reply to ${sender}: ${m.text}`}
                    onClick={() => setReplyTo(m)}
                  >
                    Reply
                  </button>
                  <button type="button" aria-label={`Pin message: ${m.text}`} onClick={() => setPinFor(m)}>
                    Pin
                  </button>
                  {own && (
                    <>
                      <button
                        type="button"
                        aria-label={`Edit message: ${m.text}`}
                        onClick={() => {
                          setEditing(m);
                          setText(m.text);
                        }}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        aria-label={`Delete message: ${m.text}`}
                        onClick={() =>
                          window.confirm('Delete this message for everyone?') &&
                          action.run(async () =>
                            merge([await api.del<Message>(`/conversations/${id}/messages/${m.id}`)]),
                          )
                        }
                      >
                        Delete
                      </button>
                    </>
                  )}
                </div>
              )}
            </li>
          );
        })}
        <li ref={bottom} aria-hidden="true" />
      </ol>
      {pinFor && (
        <form
          className="pin-form"
          aria-label="Pin a message"
          onSubmit={(e) => {
            e.preventDefault();
            const ms = Number(pinExpiry);
            void action.run(async () => {
              setPin(
                await api.put<Pin>(`/conversations/${id}/pin`, {
                  message_id: pinFor.id,
                  expiry_time: ms === -1 ? -1 : Date.now() + ms,
                }),
              );
              setPinFor(null);
            });
          }}
        >
          <span>Pin “{pinFor.text.slice(0, 60)}”</span>
          <label>
            Pin expires after{' '}
            <select value={pinExpiry} onChange={(e) => setPinExpiry(e.target.value)}>
              {PIN_CHOICES.map(([label, ms]) => (
                <option key={label} value={ms}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={action.busy}>
            Pin it
          </button>
          <button type="button" onClick={() => setPinFor(null)}>
            Cancel
          </button>
        </form>
      )}
      <p className="typing" aria-live="polite">
        {typing ? `${typing} is typing…` : ''}
      </p>
      <form className="composer" onSubmit={submit}>
        {(replyTo || editing) && (
          <p className="composer-mode">
            {editing
              ? 'Editing your message'
              : `Replying to ${names.get(replyTo!.sender_id) ?? 'someone'}: ${replyTo!.text}`}{' '}
            <button
              type="button"
              onClick={() => {
                setReplyTo(null);
                if (editing) setText('');
                setEditing(null);
              }}
            >
              Cancel
            </button>
          </p>
        )}
        <label htmlFor="composer" className="sr-only">
          Message
        </label>
        <textarea
          id="composer"
          rows={2}
          value={text}
          placeholder={`Message ${title}`}
          onChange={(e) => onType(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && (replyTo || editing)) {
              setReplyTo(null);
              if (editing) setText('');
              setEditing(null);
            }
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <button type="submit" disabled={action.busy || !text.trim()}>
          {editing ? 'Save' : 'Send'}
        </button>
      </form>
    </div>
  );
}
