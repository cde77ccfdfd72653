import type { components } from './stream-schema.ts';

/** Frames of /v1/stream, typed from the server's AsyncAPI document (asyncapi.json). */
type Schemas = components['schemas'];
export type ReadyFrame = Schemas['ReadyFrame'];
export type EventFrame = Schemas['EventFrame'];
export type AckFrame = Schemas['AckFrame'];
export type ErrorFrame = Schemas['ErrorFrame'];
export type PongFrame = Schemas['PongFrame'];
export type ServerFrame = ReadyFrame | EventFrame | AckFrame | ErrorFrame | PongFrame;
export type SendFrame = Schemas['SendFrame'];
export type TypingFrame = Schemas['TypingFrame'];
export type PingFrame = Schemas['PingFrame'];
export type ClientFrame = SendFrame | TypingFrame | PingFrame;
/** An event's name: `message.created`, `member.joined`, `typing.started`, ... */
export type EventName = EventFrame['event'];

/** The part of a WebSocket the stream uses: the WHATWG one (browsers, Node 22+) or `ws`'s. */
interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', fn: () => void): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', fn: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', fn: (e: unknown) => void): void;
}
type SocketConstructor = new (url: string, protocols?: string | string[]) => Socket;

/** Close codes after which reconnecting cannot help (the stream stops and says why). */
const FINAL = new Set([4001, 4400, 1008]);
const RESYNC_REQUIRED = 4009;

export interface ParleyStreamOptions {
  /** Where the server is, without /v1: `http://localhost:8080` (ws:// or wss:// also accepted). */
  baseUrl: string;
  /** An access token with messages:read (sent as the subprotocol `bearer.<token>`). */
  token: string;
  /** Resume after this position (the last `seq` you saw); otherwise live events from now. */
  since?: number;
  /** A WebSocket class to use; by default globalThis.WebSocket, else the `ws` package. */
  WebSocket?: SocketConstructor;
  /** Delay before the first reconnection; it doubles up to maxDelayMs (default 500 ms and 30 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  onEvent?: (frame: EventFrame) => void;
  /** Caught up: every missed event was delivered (after each connection). */
  onReady?: (frame: ReadyFrame) => void;
  onAck?: (frame: AckFrame) => void;
  onError?: (frame: ErrorFrame) => void;
  /**
   * The server no longer has the events after `since` (away more than three days): reload
   * what you show; the stream goes on from now.
   */
  onResync?: () => void;
  /** The stream stopped for good (stop(), a revoked token: 4001, a bad request: 4400). */
  onClose?: (info: { code: number; reason: string }) => void;
}

/**
 * A typed client of /v1/stream that stays connected: after a drop it reconnects (with a
 * doubling delay) with `?since=<the last seq it saw>`, so the server first sends exactly what
 * was missed, then live events; nothing is lost or delivered twice (events repeated across a
 * reconnection are skipped by their seq).
 *
 *   const stream = connectStream({ baseUrl, token, onEvent: (e) => console.log(e.event, e.data) });
 *   ...
 *   stream.stop();
 */
export class ParleyStream {
  readonly #opts: ParleyStreamOptions;
  #socket: Socket | null = null;
  #lastSeq: number | undefined;
  #stopped = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ParleyStreamOptions) {
    this.#opts = options;
    this.#lastSeq = options.since;
    void this.#connect();
  }

  /** The position of the last stored event received (what a reconnection resumes from). */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.#socket?.readyState === 1;
  }

  /** Sends a frame (a message, typing, ping); false when not connected. */
  send(frame: ClientFrame): boolean {
    if (this.#socket?.readyState !== 1) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the socket and connects again at once, resuming after lastSeq. */
  reconnect(): void {
    this.#attempt = 0;
    this.#socket?.close(4000, 'reconnect');
  }

  /** Closes the stream for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close(1000, 'stop');
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const Ws = this.#opts.WebSocket ?? (await defaultWebSocket());
    const url = new URL('/v1/stream', this.#opts.baseUrl.replace(/^http/, 'ws'));
    if (this.#lastSeq !== undefined) url.searchParams.set('since', String(this.#lastSeq));
    const socket = new Ws(url.toString(), ['parley', `bearer.${this.#opts.token}`]);
    this.#socket = socket;
    socket.addEventListener('message', (e) => this.#onFrame(e.data));
    socket.addEventListener('error', () => undefined); // a close follows
    socket.addEventListener('close', (e) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#stopped || FINAL.has(e.code)) {
        this.#stopped = true;
        this.#opts.onClose?.({ code: e.code, reason: e.reason });
        return;
      }
      if (e.code === RESYNC_REQUIRED) {
        this.#lastSeq = undefined;
        this.#opts.onResync?.();
      }
      const min = this.#opts.minDelayMs ?? 500;
      const delay = e.code === 4000 ? 0 : Math.min(this.#opts.maxDelayMs ?? 30_000, min * 2 ** this.#attempt);
      this.#attempt++;
      this.#timer = setTimeout(() => void this.#connect(), delay);
    });
  }

  #onFrame(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ready':
        this.#attempt = 0;
        if (frame.seq > 0 && (this.#lastSeq === undefined || frame.seq > this.#lastSeq))
          this.#lastSeq = frame.seq;
        this.#opts.onReady?.(frame);
        return;
      case 'event':
        if (frame.seq !== 0) {
          if (this.#lastSeq !== undefined && frame.seq <= this.#lastSeq) return; // seen before the drop
          this.#lastSeq = frame.seq;
        }
        this.#opts.onEvent?.(frame);
        return;
      case 'ack':
        this.#opts.onAck?.(frame);
        return;
      case 'error':
        this.#opts.onError?.(frame);
        return;
    }
  }
}

/** Opens a stream that reconnects by itself (see ParleyStream). */
export function connectStream(options: ParleyStreamOptions): ParleyStream {
  return new ParleyStream(options);
}

async function defaultWebSocket(): Promise<SocketConstructor> {
  const g = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (g) return g;
  const ws = (await import('ws')) as unknown as { default: SocketConstructor };
  return ws.default;
}
