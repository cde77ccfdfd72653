import { once } from 'node:events';
import WebSocket from 'ws';

export interface StreamClient {
  ws: WebSocket;
  frames: any[];
  /** Waits (bounded) for the first frame, after those already consumed, that matches. */
  next(match?: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Waits (bounded) like next() for a matching frame, but consumes nothing. */
  received(match: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Frames received so far that match. */
  seen(match: (f: any) => boolean): any[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  close(): Promise<void>;
}

/** A real WebSocket client of /v1/stream that records every frame. */
export async function connectStream(
  baseUrl: string,
  opts: {
    token?: string;
    since?: number;
    via?: 'header' | 'protocol' | 'query';
    /** Another stream than /v1/stream (the widget's visitors: /v1/widget/stream). */
    path?: string;
  } = {},
): Promise<StreamClient> {
  const url = new URL(opts.path ?? '/v1/stream', baseUrl.replace(/^http/, 'ws'));
  if (opts.since !== undefined) url.searchParams.set('since', String(opts.since));
  const via = opts.via ?? 'header';
  if (opts.token && via === 'query') url.searchParams.set('access_token', opts.token);
  const protocols = opts.token && via === 'protocol' ? ['parley', `bearer.${opts.token}`] : undefined;
  const headers = opts.token && via === 'header' ? { authorization: `Bearer ${opts.token}` } : undefined;
  const ws = new WebSocket(url, protocols, { headers });
  const frames: any[] = [];
  let consumed = 0;
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const w of waiters) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of waiters) w();
    });
  });
  await Promise.race([
    once(ws, 'open'),
    once(ws, 'unexpected-response').then(([, res]) => {
      throw Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode });
    }),
  ]);
  /** The first frame after those consumed that matches, consuming up to it when `consume`. */
  const wait = (match: (f: any) => boolean, timeoutMs: number, consume: boolean) =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        for (let i = consumed; i < frames.length; i++) {
          if (match(frames[i])) {
            if (consume) consumed = i + 1;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(frames[i]);
            return;
          }
        }
        if (ws.readyState === ws.CLOSED) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(
            new Error(
              `socket closed while waiting; frames: ${JSON.stringify(frames.slice(consumed)).slice(0, 500)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames.slice(consumed)).slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    ws,
    frames,
    closed,
    seen: (match) => frames.filter(match),
    next(match = () => true, timeoutMs = 3000) {
      return wait(match, timeoutMs, true);
    },
    received(match, timeoutMs = 3000) {
      return wait(match, timeoutMs, false);
    },
    send: (frame) => ws.send(JSON.stringify(frame)),
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}
