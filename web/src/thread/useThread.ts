import { useCallback, useEffect, useRef, useState } from 'react';
import type { Session } from '../App.tsx';
import {
  ApiError,
  type Conversation,
  type MemberState,
  type Message,
  type Page,
  type Pin,
  query,
} from '../api.ts';
import { applyReactionEvent } from './Reactions.tsx';
import type { ChatMessage } from './teamchat.ts';

/**
 * One conversation's data for the thread view: the conversation (with your member state), its
 * messages (the newest page, then older ones on demand), the pinned message and who is typing,
 * kept current by the realtime stream.
 */
export function useThread(
  session: Session,
  id: string,
  on: {
    /** The conversation was loaded (the composer takes its saved draft). */
    loaded: (c: Conversation) => void;
    /** Your member state changed (the list shows it too). */
    state: (me: MemberState) => void;
  },
) {
  const { api, stream, names } = session;
  const onRef = useRef(on);
  onRef.current = on;
  const [conv, setConv] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Map<string, Message>>(new Map());
  const [older, setOlder] = useState<string | null>(null);
  const [pin, setPin] = useState<Pin | null>(null);
  /** Who is typing (their name and id): cleared by their message, or after 4 s. */
  const [typing, setTyping] = useState<{ id: string | null; name: string } | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  /** Adds or replaces messages (a page, a sent or an edited one, a stream event). */
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
        onRef.current.loaded(c);
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
          const m = (e.data as { message: Message }).message;
          merge([m]);
          if (e.event === 'message.created') {
            // Their message arrived: they are no longer typing it.
            setTyping((t) => (t && t.id === m.sender_id ? null : t));
            void api.post(`/conversations/${id}/read`).catch(() => undefined);
          }
        } else if (e.event === 'reaction.added' || e.event === 'reaction.removed') {
          // Team chat: someone's reaction (yours too, from another tab) changes a message's list.
          const d = e.data as { message_id: string; actor_id: string; emoji: string; count: number };
          setMessages((prev) => {
            const m = prev.get(d.message_id) as ChatMessage | undefined;
            if (!m) return prev;
            const reactions = applyReactionEvent(m.reactions ?? [], d, e.event === 'reaction.added');
            return new Map(prev).set(m.id, { ...m, reactions } as ChatMessage);
          });
        } else if (e.event === 'thread.updated') {
          // A reply (or a deleted one): the root's "N replies · last reply".
          const d = e.data as { thread_id: string; reply_count: number; last_reply_at: string | null };
          setMessages((prev) => {
            const m = prev.get(d.thread_id);
            if (!m) return prev;
            const root = { ...m, reply_count: d.reply_count, last_reply_at: d.last_reply_at } as ChatMessage;
            return new Map(prev).set(m.id, root);
          });
        } else if (e.event === 'pin.created') {
          const d = e.data as { message: Message; creator_id: string; expiry_time: number };
          setPin({
            conversation_id: id,
            message: d.message,
            creator: { id: d.creator_id, name: names.get(d.creator_id) ?? d.creator_id },
            expiry_time: d.expiry_time,
          });
        } else if (
          e.event === 'conversation.updated' ||
          e.event === 'member.joined' ||
          e.event === 'member.left'
        ) {
          // Renamed, or the member count changed: read the conversation again.
          void api
            .get<Conversation>(`/conversations/${id}`)
            .then((c) => setConv((prev) => (prev ? { ...prev, ...c } : c)))
            .catch(() => undefined);
        } else if (e.event === 'member.muted' || e.event === 'member.unmuted') {
          const me = (e.data as { me: MemberState }).me;
          setConv((c) => (c ? { ...c, me, muted: me.muted } : c));
        } else if (e.event === 'pin.deleted') {
          setPin(null);
        } else if (e.event === 'typing.started') {
          const d = e.data as { actor_id?: string; actor_name?: string };
          setTyping({ id: d.actor_id ?? null, name: d.actor_name ?? 'Someone' });
        }
      }),
    [stream, id, merge, api, names],
  );

  useEffect(() => {
    if (!typing) return;
    const t = setTimeout(() => setTyping(null), 4000);
    return () => clearTimeout(t);
  }, [typing]);

  // Expired pins disappear by themselves: drop the banner at its expiry.
  useEffect(() => {
    if (!pin || pin.expiry_time === -1) return;
    const t = setTimeout(() => setPin(null), Math.max(0, pin.expiry_time - Date.now()));
    return () => clearTimeout(t);
  }, [pin]);

  /** The next page of older messages. */
  const loadOlder = async () => {
    const page = await api.get<Page<Message>>(
      `/conversations/${id}/messages${query({ limit: 30, cursor: older })}`,
    );
    merge(page.items);
    setOlder(page.next_cursor);
  };

  /** Your member state changed here (mute, pin to list, hide, draft): the thread and the list. */
  const setMe = useCallback((state: MemberState) => {
    setConv((c) => (c ? { ...c, me: state, muted: state.muted } : c));
    onRef.current.state(state);
  }, []);

  const sorted = [...messages.values()].sort((a, b) =>
    a.id.length === b.id.length ? (a.id < b.id ? -1 : 1) : a.id.length - b.id.length,
  );

  return { conv, messages, sorted, older, pin, setPin, typing, loadError, merge, loadOlder, setMe };
}
