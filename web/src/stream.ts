import { COOKIE_SESSION } from './api.ts';
/**
 * The realtime stream: a WebSocket to /v1/stream, authenticated with the subprotocols
 * `parley` and `bearer.<token>` (never a token in the URL). It remembers the last event's
 * `seq` and reconnects with `?since=<seq>` after a drop, so nothing is lost; events whose seq
 * was already seen are dropped, so nothing is delivered twice.
 */

export interface StreamEvent {
  type: 'event';
  seq: number | null;
  event: string;
  conversation_id: string | null;
  data: Record<string, unknown>;
  at: string;
}

/** `unauthorized`: the token was revoked, expired or refused; the stream gives up. */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed' | 'unauthorized';

/** The server closes a live socket with 4001 when its token is revoked or its actor deactivated. */
const CLOSE_UNAUTHORIZED = 4001;

export class Stream {
  #token: string;
  #socket: WebSocket | null = null;
  #lastSeq: number | null = null;
  #listeners = new Set<(e: StreamEvent) => void>();
  #statusListeners = new Set<(s: StreamStatus) => void>();
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #offlineUntil = 0;
  status: StreamStatus = 'connecting';

  constructor(token: string) {
    this.#token = token;
    this.#connect();
  }

  get lastSeq(): number | null {
    return this.#lastSeq;
  }

  on(listener: (e: StreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (s: StreamStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Sends a frame (typing) when connected; dropped otherwise (typing is best effort). */
  send(frame: Record<string, unknown>): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }

  /**
   * Drops the connection as a network failure would, staying away at least `offlineMs`
   * (debugging and the browser tests of the catch-up).
   */
  drop(offlineMs = 0): void {
    this.#offlineUntil = Date.now() + offlineMs;
    this.#socket?.close(4000, 'client drop');
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close(1000, 'signed out');
    this.#setStatus('closed');
  }

  #setStatus(s: StreamStatus): void {
    this.status = s;
    for (const l of this.#statusListeners) l(s);
  }

  #giveUp(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#setStatus('unauthorized');
  }

  async #checkToken(): Promise<void> {
    try {
      const res = await fetch('/v1/me', { headers: { authorization: `Bearer ${this.#token}` } });
      if (res.status === 401 && !this.#closed) {
        this.#socket?.close(1000, 'signed out');
        this.#giveUp();
      }
    } catch {
      // Offline: keep reconnecting.
    }
  }

  #connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.#lastSeq === null ? '' : `?since=${this.#lastSeq}`;
    const socket = new WebSocket(
      `${proto}//${location.host}/v1/stream${since}`,
      // A console session (OpenID Connect) authenticates with its cookie instead.
      this.#token === COOKIE_SESSION ? ['parley'] : ['parley', `bearer.${this.#token}`],
    );
    this.#socket = socket;
    socket.onmessage = (msg) => {
      let frame: { type?: string; seq?: number | null };
      try {
        frame = JSON.parse(String(msg.data)) as typeof frame;
      } catch {
        return;
      }
      if (frame.type === 'ready') {
        this.#attempt = 0;
        if (this.#lastSeq === null && typeof frame.seq === 'number') this.#lastSeq = frame.seq;
        this.#setStatus('live');
        return;
      }
      if (frame.type === 'error' && (frame as { code?: string }).code === 'invalid_token') {
        socket.close(1000, 'signed out');
        this.#giveUp();
        return;
      }
      if (frame.type !== 'event') return;
      const e = frame as StreamEvent;
      // Ephemeral events (typing) carry seq 0: never stored, never replayed, never deduplicated.
      if (typeof e.seq === 'number' && e.seq > 0) {
        if (this.#lastSeq !== null && e.seq <= this.#lastSeq) return; // already seen
        this.#lastSeq = e.seq;
      }
      for (const l of this.#listeners) l(e);
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket || this.#closed) return;
      if (ev.code === CLOSE_UNAUTHORIZED) {
        this.#giveUp();
        return;
      }
      this.#setStatus('reconnecting');
      // A refused upgrade (a revoked or expired token) closes with 1006 and no reason: ask the
      // API whether the token still works before trying again, so a dead token signs out
      // instead of "Reconnecting…" forever.
      if (ev.code === 1006 || this.#attempt > 0) void this.#checkToken();
      const backoff = Math.min(10_000, 250 * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
      const delay = Math.max(backoff, this.#offlineUntil - Date.now());
      this.#attempt += 1;
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }
}
