/**
 * The baseline of the fan-out scenario: an in-memory WebSocket relay with no persistence, on
 * the same `ws` library Parley's stream uses. It speaks the subset of Parley's stream protocol
 * the load generator uses: `Authorization: Bearer <token>` on upgrade, a `ready` frame, `send`
 * frames answered with an `ack`, and a `message.created` event (serialized once) to every
 * socket of every member of the group, the sender included, as Parley does. No sequencing
 * across restarts, no database, no authorization beyond the token map: the ceiling of relaying
 * these frames from one Node process on this machine.
 *
 * Given a database (a copy of the one Parley wrote in the same run), it is the durable floor of
 * the fan-out instead: each send is first written as Parley writes it, by bench/floor-writer.ts
 * (one transaction per tick, WAL fdatasync'ed before anyone hears of it), then fanned out and
 * acknowledged. Not a baseline: what relaying durable messages can keep on this machine,
 * whatever the code around the writes.
 *
 *   node bench/relay-server.ts <port> <membership.json> [parley.db]
 *
 * membership.json: {"tokens": {"<token>": "<actor id>"}, "groups": {"<conversation id>": ["<actor id>", ...]}}
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { openFloorWriter } from './floor-writer.ts';

const port = Number(process.argv[2]);
const membership = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as {
  tokens: Record<string, string>;
  groups: Record<string, string[]>;
};
const tokens = new Map(Object.entries(membership.tokens));
const groups = new Map(Object.entries(membership.groups).map(([id, members]) => [id, new Set(members)]));
const sockets = new Map<string, Set<WebSocket>>();
const writer = process.argv[4] ? await openFloorWriter(process.argv[4], 'parley') : null;
const MAX_BUFFERED = 1 << 20;
let nextId = 1n << 50n;
let seq = 0;

const http = createServer((req, res) => {
  if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, path: '/v1/stream', maxPayload: 64 * 1024 });

function send(ws: WebSocket, frame: string): void {
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED) {
    ws.close(4008, 'slow consumer');
    return;
  }
  ws.send(frame);
}

wss.on('connection', (ws, req) => {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  const actorId = token ? tokens.get(token) : undefined;
  if (!actorId) {
    ws.close(4001, 'invalid token');
    return;
  }
  const set = sockets.get(actorId) ?? new Set<WebSocket>();
  sockets.set(actorId, set);
  set.add(ws);
  ws.on('close', () => set.delete(ws));
  ws.on('message', (data) => {
    let msg: { type?: unknown; conversation_id?: unknown; text?: unknown; client_id?: unknown };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      send(ws, JSON.stringify({ type: 'error', code: 'invalid_frame', message: 'Frames are JSON objects' }));
      return;
    }
    const members = typeof msg.conversation_id === 'string' ? groups.get(msg.conversation_id) : undefined;
    if (
      msg.type !== 'send' ||
      !members?.has(actorId) ||
      typeof msg.text !== 'string' ||
      typeof msg.client_id !== 'string'
    ) {
      send(ws, JSON.stringify({ type: 'error', code: 'invalid_request', message: 'bad send frame' }));
      return;
    }
    const id = nextId++;
    const conversationId = msg.conversation_id as string;
    const text = msg.text;
    const clientId = msg.client_id;
    const relay = (seqOf: number, createdAt: number) => {
      const now = new Date(createdAt).toISOString();
      const message = {
        id: id.toString(),
        conversation_id: conversationId,
        sender_id: actorId,
        type: 'text',
        text,
        metadata: null,
        reply_to_id: null,
        client_id: clientId,
        created_at: now,
        edited_at: null,
        deleted: false,
        deleted_at: null,
      };
      const frame = JSON.stringify({
        type: 'event',
        seq: seqOf,
        event: 'message.created',
        conversation_id: conversationId,
        data: { message },
        at: now,
      });
      for (const member of members) for (const s of sockets.get(member) ?? []) send(s, frame);
      send(ws, JSON.stringify({ type: 'ack', client_id: clientId, created: true, message }));
    };
    const createdAt = Date.now();
    if (!writer) {
      relay(++seq, createdAt);
      return;
    }
    void writer
      .write({
        id,
        conversationId: BigInt(conversationId),
        senderId: BigInt(actorId),
        text,
        clientId,
        createdAt,
      })
      .then((r) => {
        if (r instanceof Error)
          send(ws, JSON.stringify({ type: 'error', code: 'invalid_request', message: r.message }));
        else relay(r.seq, createdAt);
      });
  });
  send(ws, JSON.stringify({ type: 'ready', seq }));
});

http.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  http.close(() => process.exit(0));
});
