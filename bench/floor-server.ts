/**
 * The durable floor of the send scenario: the bare `node:http` server of bench/bare-server.ts
 * (same parsing, same answer) that answers each POST only after its message is durable,
 * written by bench/floor-writer.ts: in `minimal` mode one row in a table of its own, in
 * `parley` mode the rows a Parley send writes, in Parley's schema (a database Parley created;
 * the sender is the conversation's creator). No framework, no authentication, no validation
 * beyond "text is a string".
 *
 * Not a baseline of the table's ratios: it shows how much of the bare server's rate a server
 * that acknowledges durable writes can keep on this machine, whatever its code.
 *
 * Given a postgres:// URL instead of a file, it is the PostgreSQL floor of `--db postgres`: one
 * durable INSERT per request through a `pg` Pool of `pool-size` connections (floor-writer.ts).
 *
 *   node bench/floor-server.ts <port> <sqlite-path> [minimal|parley]
 *   node bench/floor-server.ts <port> <postgres-url> minimal <pool-size>
 */
import { createServer } from 'node:http';
import { openFloorWriter, openPgFloorWriter } from './floor-writer.ts';

const port = Number(process.argv[2]);
const path = process.argv[3];
const mode = process.argv[4] === 'parley' ? 'parley' : 'minimal';
if (!path)
  throw new Error('usage: floor-server.ts <port> <sqlite-path|postgres-url> [minimal|parley] [pool-size]');
const writer = /^postgres(ql)?:\/\//.test(path)
  ? await openPgFloorWriter(path, Number(process.argv[5] ?? 10))
  : await openFloorWriter(path, mode);
let nextId = BigInt(Date.now() - 1_600_000_000_000) << 22n;

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, JSON_TYPE).end('{"ok":true}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { text?: unknown; client_id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, JSON_TYPE).end('{"error":"bad json"}');
      return;
    }
    if (typeof body?.text !== 'string') {
      res.writeHead(400, JSON_TYPE).end('{"error":"text"}');
      return;
    }
    const id = nextId++;
    const conversationId = req.url?.split('/')[3] ?? '0';
    const clientId = typeof body.client_id === 'string' ? body.client_id : null;
    const createdAt = Date.now();
    const text = body.text;
    writer
      .write({ id, conversationId: BigInt(conversationId), senderId: null, text, clientId, createdAt })
      .then((r) => {
        if (r instanceof Error) {
          res.writeHead(404, JSON_TYPE).end(JSON.stringify({ error: r.message }));
          return;
        }
        const message = {
          id: id.toString(),
          conversation_id: conversationId,
          sender_id: '1',
          type: 'text',
          text,
          metadata: null,
          reply_to_id: null,
          client_id: clientId,
          created_at: new Date(createdAt).toISOString(),
          edited_at: null,
          deleted: false,
          deleted_at: null,
        };
        res.writeHead(201, JSON_TYPE).end(JSON.stringify(message));
      });
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => {
    void writer.close().then(() => process.exit(0));
  });
  server.closeAllConnections();
});
