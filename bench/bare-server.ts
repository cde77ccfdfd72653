/**
 * The baseline of the send and list scenarios: a bare `node:http` server, one process, no
 * framework, no database. POST reads the body, parses it as JSON and answers 201 with a
 * message-shaped JSON object (the size of Parley's answer); GET answers 200 with the body in
 * the file named by the second argument (a page captured from Parley, so both send the same
 * bytes). What it serves is the ceiling of one Node process on this machine.
 *
 *   node bench/bare-server.ts <port> [get-body-file]
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const getBody = process.argv[3]
  ? readFileSync(process.argv[3])
  : Buffer.from('{"items":[],"next_cursor":null}');
let nextId = 1n << 50n;

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"ok":true}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(getBody);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { text?: unknown; client_id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"bad json"}');
      return;
    }
    if (typeof body?.text !== 'string') {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"text"}');
      return;
    }
    const id = (nextId++).toString();
    const message = {
      id,
      conversation_id: req.url?.split('/')[3] ?? '0',
      sender_id: '1',
      type: 'text',
      text: body.text,
      metadata: null,
      reply_to_id: null,
      client_id: typeof body.client_id === 'string' ? body.client_id : null,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
      deleted_at: null,
    };
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(message));
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
