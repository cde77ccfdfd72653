import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import { newClientId } from '../api.ts';
import { Busy, ErrorNote, plural, RelativeTime, useAction } from '../ui.tsx';
import { MentionPicker, toWire } from './MentionPicker.tsx';
import { MessageItem } from './MessageItem.tsx';
import { Reactions } from './Reactions.tsx';
import type { ChatMessage, Member, PresenceStatus, Reaction } from './teamchat.ts';

interface ThreadPage {
  root: ChatMessage;
  items: ChatMessage[];
  next_cursor: string | null;
  me: { following: boolean; read_count: number; unread_count: number };
}

/**
 * One thread (its own URL, /conversations/:id/t/:messageId): the root, its replies oldest
 * first, and a composer that replies in the thread. A side panel on desktop, the full screen
 * on a phone. Opening it marks the thread read; "N new" says how many replies were unread.
 */
export function ThreadPanel({
  session,
  conversationId,
  rootId,
  members,
  onMemberSearch,
  presence,
  allowAll,
  onClose,
  onReplied,
}: {
  session: Session;
  conversationId: string;
  rootId: string;
  members: Member[];
  /** Reads the members past the first page (someone types a mention). */
  onMemberSearch?: () => void;
  presence: Map<string, PresenceStatus>;
  allowAll: boolean;
  onClose: () => void;
  /** A reply was sent here (the main timeline shows it too). */
  onReplied: (m: ChatMessage) => void;
}) {
  const { api, stream, me, names } = session;
  const [page, setPage] = useState<ThreadPage | null>(null);
  const [replies, setReplies] = useState<Map<string, ChatMessage>>(new Map());
  const [unread, setUnread] = useState<number | null>(null);
  const [text, setText] = useState('');
  const [picked] = useState(() => new Map<string, string>());
  const [loadError, setLoadError] = useState<unknown>(null);
  const action = useAction();
  const mentionEnv = { names, meId: me.actor.id };

  const load = useCallback(
    async (first: boolean) => {
      const all: ChatMessage[] = [];
      let cursor: string | null = null;
      let p: ThreadPage;
      do {
        p = await api.get<ThreadPage>(
          `/conversations/${conversationId}/messages/${rootId}/thread?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        all.push(...p.items);
        cursor = p.next_cursor;
      } while (cursor);
      setPage(p);
      setReplies(new Map(all.map((m) => [m.id, m])));
      if (first) setUnread(p.me.unread_count);
      if (p.me.unread_count > 0)
        void api
          .post(`/conversations/${conversationId}/messages/${rootId}/thread/read`)
          .catch(() => undefined);
    },
    [api, conversationId, rootId],
  );

  useEffect(() => {
    setPage(null);
    setLoadError(null);
    load(true).catch(setLoadError);
  }, [load]);

  // New replies, edits, deletes and reactions in this thread while it is open.
  useEffect(
    () =>
      stream.on((e) => {
        const d = e.data as {
          conversation_id?: string;
          thread_id?: string;
          message?: ChatMessage;
          message_id?: string;
        };
        if ((d.conversation_id ?? e.conversation_id) !== conversationId) return;
        const root = page?.root.id ?? rootId;
        if (e.event === 'thread.updated' && d.thread_id === root) void load(false).catch(() => undefined);
        else if (
          (e.event === 'message.edited' || e.event === 'message.deleted') &&
          d.message &&
          (d.message.id === root || d.message.thread_id === root)
        )
          void load(false).catch(() => undefined);
        else if ((e.event === 'reaction.added' || e.event === 'reaction.removed') && d.message_id) {
          if (d.message_id === root || replies.has(d.message_id)) void load(false).catch(() => undefined);
        }
      }),
    [stream, conversationId, rootId, page?.root.id, replies, load],
  );

  const setReactions = (id: string, reactions: Reaction[]) => {
    if (page && id === page.root.id) setPage({ ...page, root: { ...page.root, reactions } });
    else
      setReplies((prev) => {
        const m = prev.get(id);
        return m ? new Map(prev).set(id, { ...m, reactions }) : prev;
      });
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = toWire(text.trim(), picked);
    if (!body || !page) return;
    // Cleared at once (text typed during the send stays); restored only if the send fails.
    const typed = text;
    setText('');
    void action.run(async () => {
      try {
        const sent = await api.post<ChatMessage>(`/conversations/${conversationId}/messages`, {
          text: body,
          client_id: newClientId(),
          reply_to: page.root.id,
        });
        setReplies((prev) => new Map(prev).set(sent.id, sent));
        onReplied(sent);
      } catch (err) {
        setText((now) => (now.trim() ? `${typed}\n${now}` : typed));
        throw err;
      }
    });
  };

  const item = (m: ChatMessage, first: boolean) => (
    <MessageItem
      key={m.id}
      // A reply to the root needs no quote here (the root is on top); a reply to a reply quotes it.
      message={page && m.reply_to_id === page.root.id ? { ...m, reply_to_id: null } : m}
      first={first}
      parent={m.reply_to_id ? replies.get(m.reply_to_id) : undefined}
      names={names}
      own={m.sender_id === me.actor.id}
      mentions={mentionEnv}
      presence={presence.get(m.sender_id)}
      below={
        !m.deleted && (
          <Reactions
            api={api}
            conversationId={conversationId}
            messageId={m.id}
            reactions={m.reactions ?? []}
            meId={me.actor.id}
            names={names}
            onChange={(r) => setReactions(m.id, r)}
            onError={action.setError}
          />
        )
      }
      onReply={() => document.getElementById('thread-composer')?.focus()}
      onPin={() => undefined}
      onEdit={() => undefined}
      onDelete={() =>
        action.run(async () => {
          await api.del(`/conversations/${conversationId}/messages/${m.id}`);
          await load(false);
        })
      }
      inThread
    />
  );

  const sorted = [...replies.values()].sort((a, b) =>
    a.id.length === b.id.length ? (a.id < b.id ? -1 : 1) : a.id.length - b.id.length,
  );
  return (
    <aside className="thread-panel" aria-label="Thread">
      <header className="thread-panel-head">
        <button type="button" className="thread-panel-close" onClick={onClose} aria-label="Close the thread">
          ←<span className="thread-panel-close-label"> Back</span>
        </button>
        <h2>Thread</h2>
        {page && (
          <span className="meta">
            {plural(page.root.reply_count ?? 0, 'reply', 'replies')}
            {unread ? <span className="thread-unread"> · {unread} new</span> : null}
          </span>
        )}
        {page && (
          <button
            type="button"
            className="thread-follow"
            aria-pressed={page.me.following}
            disabled={action.busy}
            title={
              page.me.following
                ? 'You are told about new replies (unread, mentions, digest mail)'
                : 'Follow to be told about new replies'
            }
            onClick={() =>
              void action.run(async () => {
                const me = await api.put<ThreadPage['me']>(
                  `/conversations/${conversationId}/messages/${page.root.id}/thread/follow`,
                  { following: !page.me.following },
                );
                setPage((p) => (p ? { ...p, me: { ...p.me, ...me } } : p));
              })
            }
          >
            {page.me.following ? 'Following' : 'Follow'}
          </button>
        )}
        <button type="button" className="thread-panel-x" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <ErrorNote error={loadError ?? action.error} />
      {!page && !loadError && <Busy label="Loading the thread…" />}
      {page && (
        <ol className="messages thread-messages" aria-label="Thread replies">
          {item(page.root, true)}
          <li className="thread-divider">
            <span>
              {plural(page.root.reply_count ?? 0, 'reply', 'replies')}
              {page.root.last_reply_at && (
                <>
                  {' '}
                  · last <RelativeTime at={page.root.last_reply_at} />
                </>
              )}
            </span>
          </li>
          {sorted.map((m, i) => {
            const prev = sorted[i - 1];
            return item(m, !prev || prev.sender_id !== m.sender_id || prev.deleted !== m.deleted);
          })}
        </ol>
      )}
      <form className="composer thread-composer" onSubmit={submit}>
        <label htmlFor="thread-composer" className="sr-only">
          Reply in the thread
        </label>
        <textarea
          id="thread-composer"
          rows={2}
          value={text}
          placeholder="Reply in the thread…"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <MentionPicker
          inputId="thread-composer"
          text={text}
          members={members}
          onSearch={onMemberSearch}
          meId={me.actor.id}
          allowAll={allowAll}
          onPick={(t, _c, m) => {
            if (m) picked.set(m.name, m.id);
            setText(t);
          }}
        />
        <button type="submit" disabled={action.busy || !text.trim() || !page}>
          Reply
        </button>
      </form>
    </aside>
  );
}

/** Under a thread's root in the timeline: "N replies · last reply 5 min ago", opening the thread. */
export function ThreadSummary({
  message: m,
  open,
  onOpen,
}: {
  message: ChatMessage;
  open: boolean;
  onOpen: () => void;
}) {
  const n = m.reply_count ?? 0;
  if (n === 0 || m.thread_id) return null;
  return (
    <button
      type="button"
      className={`thread-summary ${open ? 'open' : ''}`}
      aria-expanded={open}
      onClick={onOpen}
    >
      <strong>{plural(n, 'reply', 'replies')}</strong>
      {m.last_reply_at && (
        <>
          {' '}
          · last reply <RelativeTime at={m.last_reply_at} />
        </>
      )}
    </button>
  );
}
