import { useEffect, useSyncExternalStore } from 'react';
import type { Session } from '../App.tsx';
import type { Page, SupportChat } from '../api.ts';
import type { ChatListItem, QueueCount } from './types.ts';

/** What an operator's console knows about the queue: kept current by the stream's support.* events. */
export interface QueueState {
  loaded: boolean;
  /** Waiting chats of the departments the operator serves, oldest first. */
  waiting: SupportChat[];
  /** Waiting chats and available operators per department the operator serves. */
  counts: QueueCount[];
  /** The open (waiting or connected) chats the operator attends. */
  mine: ChatListItem[];
  /** Missed chats (messages left while nobody was available), newest first. */
  missed: ChatListItem[];
  error: unknown;
}

const EMPTY: QueueState = { loaded: false, waiting: [], counts: [], mine: [], missed: [], error: null };

/**
 * One store per signed-in session, shared by the list section, the top bar and the title badge,
 * so the three read the queue once per change.
 */
class QueueStore {
  state: QueueState = EMPTY;
  #session: Session;
  #listeners = new Set<() => void>();
  #stop: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #again = false;

  constructor(session: Session) {
    this.#session = session;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#end();
    };
  };

  snapshot = (): QueueState => this.state;

  #start(): void {
    const { stream } = this.#session;
    const offEvent = stream.on((e) => {
      // A chat waits, is picked up, transferred, ended, missed, deleted or restored.
      if (e.event.startsWith('support.')) this.refresh();
    });
    // After a reconnect the stream replays what was missed, but a fresh read is cheap and sure.
    const offStatus = stream.onStatus((s) => {
      if (s === 'live') this.refresh();
    });
    this.#stop = () => {
      offEvent();
      offStatus();
    };
    this.refresh(0);
  }

  #end(): void {
    this.#stop?.();
    this.#stop = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Reads the queue again (events in a burst are read once). */
  refresh = (delay = 100): void => {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#load();
    }, delay);
  };

  async #load(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    const { api } = this.#session;
    try {
      const [waiting, counts, mine, missed] = await Promise.all([
        api.get<Page<SupportChat>>('/support/queue?limit=100'),
        api.get<{ items: QueueCount[] }>('/support/queue/counts'),
        api.get<Page<ChatListItem>>('/support/chats?mine=true&limit=100'),
        api.get<Page<ChatListItem>>('/support/chats?state=missed&limit=50'),
      ]);
      // The thread names senders from the session's names: visitors are in the queue, not in /actors.
      for (const c of [...waiting.items, ...mine.items, ...missed.items])
        if (c.visitor) this.#session.names.set(c.visitor.id, c.visitor.name);
      this.#set({
        loaded: true,
        waiting: waiting.items,
        counts: counts.items,
        mine: mine.items,
        missed: [...missed.items].sort((a, b) => missedAt(b) - missedAt(a)),
        error: null,
      });
    } catch (error) {
      this.#set({ ...this.state, loaded: true, error });
    } finally {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.refresh(0);
      }
    }
  }

  #set(next: QueueState): void {
    this.state = next;
    for (const l of this.#listeners) l();
  }
}

/** When a chat was missed (or started, for an older server), for newest-first order. */
function missedAt(c: ChatListItem): number {
  return Date.parse(c.missed_at ?? c.created_at);
}

const stores = new WeakMap<Session, QueueStore>();

function storeOf(session: Session): QueueStore {
  let s = stores.get(session);
  if (!s) {
    s = new QueueStore(session);
    stores.set(session, s);
  }
  return s;
}

/** The live queue of a staff member's session (waiting chats, counts per department, their own chats). */
export function useSupportQueue(session: Session): QueueState & { refresh: () => void } {
  const store = storeOf(session);
  const state = useSyncExternalStore(store.subscribe, store.snapshot);
  return { ...state, refresh: () => store.refresh(0) };
}

/** Asks the shared queue to read again now (after this console picked up, transferred or ended). */
export function refreshSupportQueue(session: Session): void {
  storeOf(session).refresh(0);
}

/** The document title with the number of waiting chats in front: "(2) Parley console". */
export function useTitleBadge(waiting: number, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const base = document.title.replace(/^\(\d+\)\s+/, '');
    document.title = waiting > 0 ? `(${waiting}) ${base}` : base;
  }, [waiting, enabled]);
  useEffect(
    () => () => {
      document.title = document.title.replace(/^\(\d+\)\s+/, '');
    },
    [],
  );
}
