import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Session } from '../App.tsx';
import type { Message, Page } from '../api.ts';

/**
 * Team chat on the console (docs/console.md#team-chat): the fields the server adds to messages
 * and the per-conversation data (members, presence, receipts) kept live by the stream.
 */

export interface Reaction {
  emoji: string;
  count: number;
  actor_ids: string[];
}

/** A message with its team-chat fields (absent on servers before team chat). */
export interface ChatMessage extends Message {
  mentions?: string[];
  mentions_all?: boolean;
  reactions?: Reaction[];
  thread_id?: string | null;
  reply_count?: number;
  last_reply_at?: string | null;
}

export type PresenceStatus = 'online' | 'away' | 'offline';

export interface Member {
  id: string;
  name: string;
  /** The member's role in the conversation (owner, admin, member). */
  role?: string;
}

/** Snowflake ids compare as numbers: by length, then as text. */
export function compareIds(a: string, b: string): number {
  return a.length === b.length ? (a < b ? -1 : a > b ? 1 : 0) : a.length - b.length;
}

export interface Members {
  /** The members read so far (the first page at once, the rest on demand). */
  items: Member[];
  /** Whether every member has been read. */
  complete: boolean;
  /** Reads the remaining pages (the mention picker and the member list call it when they open). */
  loadAll: () => void;
}

const MEMBER_PAGE = 100;

/**
 * The conversation's current members (for the mention picker and the member list): the first
 * page at once, then, when something needs them all (someone types `@`, the member list opens),
 * the remaining pages by cursor. Reloaded on joins and leaves.
 */
export function useMembers(session: Session, id: string): Members {
  const { api, stream } = session;
  const [items, setItems] = useState<Member[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const generation = useRef(0);
  const loading = useRef(false);
  const base = `/conversations/${id}/members?fields=id,name,role&limit=${MEMBER_PAGE}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: version reloads on joins and leaves
  useEffect(() => {
    const gen = ++generation.current;
    loading.current = false;
    api
      .get<Page<Member>>(base)
      .then((page) => {
        if (gen !== generation.current) return;
        setItems(page.items);
        setCursor(page.next_cursor);
      })
      .catch(() => undefined);
  }, [api, base, version]);
  useEffect(
    () =>
      stream.on((e) => {
        if ((e.event === 'member.joined' || e.event === 'member.left') && e.conversation_id === id)
          setVersion((v) => v + 1);
      }),
    [stream, id],
  );
  const loadAll = useCallback(() => {
    if (!cursor || loading.current) return;
    loading.current = true;
    const gen = generation.current;
    void (async () => {
      let next: string | null = cursor;
      try {
        while (next && gen === generation.current) {
          const page: Page<Member> = await api.get<Page<Member>>(
            `${base}&cursor=${encodeURIComponent(next)}`,
          );
          if (gen !== generation.current) return;
          setItems((prev) => {
            const seen = new Set(prev.map((m) => m.id));
            return [...prev, ...page.items.filter((m) => !seen.has(m.id))];
          });
          next = page.next_cursor;
          setCursor(next);
        }
      } catch {
        // Left as read so far; the next call tries again.
      } finally {
        if (gen === generation.current) loading.current = false;
      }
    })();
  }, [api, base, cursor]);
  return useMemo(() => ({ items, complete: cursor === null, loadAll }), [items, cursor, loadAll]);
}

/** Each member's presence (online, away, offline), live through `presence.changed`. */
export function usePresence(session: Session, id: string): Map<string, PresenceStatus> {
  const { api, stream } = session;
  const [presence, setPresence] = useState<Map<string, PresenceStatus>>(new Map());
  useEffect(() => {
    let live = true;
    const load = () =>
      api
        .get<{ items: { actor_id: string; status: PresenceStatus }[] }>(`/conversations/${id}/presence`)
        .then((r) => {
          if (!live) return;
          setPresence((prev) => {
            const next = new Map(prev);
            for (const p of r.items) next.set(p.actor_id, p.status);
            return next;
          });
        })
        .catch(() => undefined);
    void load();
    // The server coalesces changes (one per person per 3 s, only when the status differs from
    // the last one announced), so a read that fell inside a window can be stale: read again
    // after each reconnect and once a minute.
    const again = setInterval(load, 60_000);
    const off = stream.onStatus((st) => st === 'live' && void load());
    return () => {
      live = false;
      clearInterval(again);
      off();
    };
  }, [api, stream, id]);
  useEffect(
    () =>
      stream.on((e) => {
        if (e.event !== 'presence.changed') return;
        const d = e.data as { actor_id: string; status: PresenceStatus };
        setPresence((prev) => new Map(prev).set(d.actor_id, d.status));
      }),
    [stream],
  );
  return presence;
}

export interface Receipts {
  enabled: boolean;
  /** Each other member's read position (a message id), null: nothing read. */
  reads: Map<string, string | null>;
}

/** Read receipts of the conversation (off when the org or the conversation's size says so). */
export function useReceipts(session: Session, id: string): Receipts {
  const { api, stream, me } = session;
  const [receipts, setReceipts] = useState<Receipts>({ enabled: false, reads: new Map() });
  useEffect(() => {
    let live = true;
    api
      .get<{ enabled: boolean; reads: { actor_id: string; read_message_id: string | null }[] }>(
        `/conversations/${id}/receipts`,
      )
      .then((r) => {
        if (!live) return;
        setReceipts((prev) => {
          const reads = new Map(r.reads.map((x) => [x.actor_id, x.read_message_id] as const));
          // An event that arrived while loading is newer.
          for (const [k, v] of prev.reads)
            if (v && (!reads.get(k) || compareIds(v, reads.get(k)!) > 0)) reads.set(k, v);
          return { enabled: r.enabled, reads };
        });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, id]);
  useEffect(
    () =>
      stream.on((e) => {
        if (e.event !== 'receipt.updated') return;
        const d = e.data as { conversation_id: string; actor_id: string; read_message_id: string | null };
        if (d.conversation_id !== id || d.actor_id === me.actor.id) return;
        setReceipts((prev) => ({ ...prev, reads: new Map(prev.reads).set(d.actor_id, d.read_message_id) }));
      }),
    [stream, id, me.actor.id],
  );
  return receipts;
}
