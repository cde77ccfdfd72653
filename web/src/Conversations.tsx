import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useMatch, useNavigate, useSearchParams } from 'react-router';
import type { Session } from './App.tsx';
import { type Conversation, type MemberState, type Message, type Page, query } from './api.ts';
import { conversationTitle } from './conversationTitle.ts';
import { plainText } from './markdown.tsx';
import { NewConversation } from './NewConversation.tsx';
import { MessageSearch } from './Search.tsx';
import type { StreamEvent } from './stream.ts';
import { SupportListSection } from './support/QueueSection.tsx';
import { Thread } from './thread/Thread.tsx';
import { Avatar, Busy, Empty, ErrorNote, plural, RelativeTime } from './ui.tsx';

type Filter = 'all' | 'unread' | 'mentions' | 'muted' | 'drafts' | 'pinned' | 'hidden';

const FILTER_QUERY: Record<Filter, Record<string, string>> = {
  all: {},
  unread: {},
  mentions: { has_mentions: 'true' },
  muted: { muted: 'true' },
  drafts: { drafts: 'true' },
  pinned: { pinned: 'true' },
  hidden: { hidden: 'true' },
};

/** The conversation list (filters, infinite scroll, live updates) beside the open thread. */
export function Conversations({ session }: { session: Session }) {
  const { api, stream, me } = session;
  const [filter, setFilter] = useState<Filter>('all');
  const [kind, setKind] = useState('');
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The URL says what is open: /conversations/:id, /conversations/:id/messages/:messageId (at a
  // message), and ?q= (or /search?q=) the message search shown in the list pane.
  const navigate = useNavigate();
  const open = useMatch('/conversations/:id/*');
  const at = useMatch('/conversations/:id/messages/:messageId');
  const [params] = useSearchParams();
  const q = params.get('q') ?? '';
  const selected = open?.params.id ?? null;
  const focus = at?.params.messageId ?? null;
  const searching = q !== '';
  const keepQuery = q ? `?q=${encodeURIComponent(q)}` : '';
  const go = useCallback(
    (id: string | null, messageId: string | null = null) =>
      navigate(
        id
          ? `/conversations/${id}${messageId ? `/messages/${messageId}` : ''}${keepQuery}`
          : q
            ? `/search${keepQuery}`
            : '/conversations',
      ),
    [navigate, keepQuery, q],
  );
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
        } else if (e.event === 'mention.created') {
          // Team chat: a mention of you (a send or an edit; @all too) counts apart from unread.
          const d = e.data as { conversation_id: string; sender_id: string };
          if (d.sender_id === me.actor.id || selectedRef.current === d.conversation_id) return;
          setItems((prev) =>
            prev.map((c) =>
              c.id === d.conversation_id ? { ...c, mention_count: (c.mention_count ?? 0) + 1 } : c,
            ),
          );
        } else if (e.event === 'member.muted' || e.event === 'member.unmuted' || e.event === 'member.read') {
          // Your own state, changed here or in another tab or device.
          const d = e.data as { conversation_id: string; me: MemberState };
          setItems((prev) =>
            prev.map((c) =>
              c.id === d.conversation_id
                ? {
                    ...c,
                    me: d.me,
                    muted: d.me.muted,
                    unread_count: d.me.unread_count,
                    mention_count: d.me.unread_count === 0 ? 0 : c.mention_count,
                  }
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
            go(c.id);
          }}
        />
        <MessageSearch
          session={session}
          directNames={directNames}
          q={q}
          onQuery={(value) => navigate(value ? `/search?q=${encodeURIComponent(value)}` : '/conversations')}
          linkTo={(conversationId, messageId) =>
            `/conversations/${conversationId}/messages/${messageId}${keepQuery}`
          }
        />
        {!searching && <SupportListSection session={session} selected={selected} />}
        <div className="filters" hidden={searching}>
          <label>
            Show{' '}
            <select value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              <option value="all">All</option>
              <option value="unread">Unread</option>
              <option value="mentions">Mentions</option>
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
        {!searching && !loading && !error && shown.length === 0 && <Empty>No conversations match.</Empty>}
        <ul className="conv-list" aria-label="Conversation list" hidden={searching}>
          {shown.map((c) => {
            const title = conversationTitle(c, directNames);
            return (
              <li key={c.id}>
                <Link
                  to={`/conversations/${c.id}`}
                  className="conv"
                  aria-current={selected === c.id ? 'page' : undefined}
                  aria-label={`${title}${c.unread_count ? `, ${c.unread_count} unread` : ''}${c.mention_count ? `, ${plural(c.mention_count, 'mention')}` : ''}${c.muted ? ', muted' : ''}`}
                  onClick={() => {
                    if (c.unread_count || c.mention_count)
                      patchItem(c.id, { unread_count: 0, mention_count: 0 });
                  }}
                >
                  <Avatar name={title} kind={c.kind} />
                  <span className="conv-title">{title}</span>
                  <span className="conv-marks">
                    {c.me?.pinned && <span className="mark">pinned</span>}
                    {c.muted && <span className="mark">muted</span>}
                    {(c.mention_count ?? 0) > 0 && (
                      <span className="mention-badge" title="Mentions of you">
                        @{c.mention_count}
                      </span>
                    )}
                    {c.unread_count > 0 && <span className="unread">{c.unread_count}</span>}
                  </span>
                  <span className="conv-last">
                    {c.me?.draft ? (
                      <em>Draft: {c.me.draft}</em>
                    ) : c.last_message ? (
                      c.last_message.deleted ? (
                        <em>message deleted</em>
                      ) : (
                        plainText(c.last_message.text, { names: session.names, meId: me.actor.id })
                      )
                    ) : (
                      <em>No messages yet</em>
                    )}
                  </span>
                  <RelativeTime className="conv-time" at={c.last_activity_at} />
                </Link>
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
            key={`${selected}:${focus ?? ''}`}
            session={session}
            id={selected}
            focusId={focus}
            directNames={directNames}
            onBack={() => go(null)}
            onState={(me) => patchItem(selected, { me, muted: me.muted })}
            onGone={() => {
              go(null);
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
