/**
 * A diagnostic, not a benchmark: how many messages share one durable commit (one fsync of the
 * WAL: SQLite syncs once per commit with synchronous=FULL) in each way of sending. Starts
 * `parley serve` under `strace -f --seccomp-bpf -e trace=fsync,fdatasync` (only those calls are
 * stopped, so the server runs at nearly full speed) on a fresh database with one group of 20
 * members, each with a socket, then counts the syncs while (a) the sockets send `send` frames at
 * a steady rate and (b) 64 HTTP connections post as fast as they can (bench/load-http.ts).
 *
 *   node bench/diag-commits.ts [rate=800] [seconds=3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { api, createOrgCli, forkChild, liftRateLimit, pool, sleep, startParley } from './lib.ts';
import type { HttpLoadResult } from './load-http.ts';

const rate = Number(process.argv[2] ?? 800);
const seconds = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'parley-commits-'));
const dbPath = join(dir, 'parley.db');
const traceFile = join(dir, 'syncs.trace');
const org = await createOrgCli({ SQLITE_PATH: dbPath, LOG_LEVEL: 'warn', PATH: process.env.PATH }, 'commits');
const server = await startParley({
  sqlitePath: dbPath,
  wrap: ['strace', '-f', '--seccomp-bpf', '-e', 'trace=fsync,fdatasync', '-ttt', '-o', traceFile],
});

/** fsync/fdatasync calls the server made between two wall-clock times (seconds). */
function syncsBetween(from: number, to: number): number {
  let n = 0;
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const m = /^\d+\s+(\d+\.\d+)\s+(fsync|fdatasync)\(/.exec(line);
    if (m && Number(m[1]) >= from && Number(m[1]) <= to) n++;
  }
  return n;
}

async function phase(fn: () => Promise<number>) {
  const from = Date.now() / 1000;
  const messages = await fn();
  await sleep(200);
  return { messages, syncs: syncsBetween(from, Date.now() / 1000) };
}

try {
  await liftRateLimit(server.url, org.token);
  const users = await pool(
    Array.from({ length: 20 }, (_, i) => i),
    4,
    async (i) => {
      const a = await api(server.url, org.token, 'POST', '/v1/actors', {
        kind: 'user',
        name: `U${i}`,
        role: 'member',
      });
      const { token } = await api(server.url, org.token, 'POST', '/v1/tokens', {
        name: 'diag',
        scopes: ['conversations:read', 'conversations:write', 'messages:read', 'messages:write'],
        actor_id: a.id,
      });
      return { id: a.id as string, token: token as string };
    },
  );
  const group = await api(server.url, users[0]!.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'diag',
    member_ids: users.slice(1).map((u) => u.id),
  });
  const sockets = await Promise.all(
    users.map(async (u) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream`, {
        headers: { authorization: `Bearer ${u.token}` },
      });
      await new Promise((resolve, reject) => {
        ws.once('message', resolve);
        ws.once('error', reject);
      });
      return ws;
    }),
  );
  let acks = 0;
  for (const ws of sockets) {
    ws.on('message', (d) => {
      if (d.toString().startsWith('{"type":"ack"')) acks++;
    });
  }

  const socketRun = await phase(async () => {
    let sent = 0;
    const start = Date.now();
    while (Date.now() - start < seconds * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate);
      while (sent < due) {
        sockets[sent % sockets.length]!.send(
          JSON.stringify({
            type: 'send',
            conversation_id: group.id,
            text: `diag ${sent}`,
            client_id: `d${sent}`,
          }),
        );
        sent++;
      }
      await sleep(5);
    }
    const until = Date.now() + 10_000;
    while (acks < sent && Date.now() < until) await sleep(20);
    return acks;
  });
  for (const ws of sockets) ws.terminate();

  const httpRun = await phase(async () => {
    const child = forkChild('load-http.ts');
    child.send({
      url: server.url,
      connections: 64,
      durationS: seconds,
      warmupS: 0,
      requests: [
        {
          method: 'POST',
          path: `/v1/conversations/${group.id}/messages`,
          headers: { authorization: `Bearer ${users[0]!.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'diag over http' }),
        },
      ],
    });
    const r = (await child.result) as HttpLoadResult;
    if (r.non2xx > 0) process.stdout.write(`HTTP statuses: ${JSON.stringify(r.statusCodes)}\n`);
    return r.ok;
  });

  const line = (label: string, r: { syncs: number; messages: number }) =>
    `${label}: ${r.messages} messages acknowledged, ${r.syncs} WAL syncs, ` +
    `${(r.messages / Math.max(1, r.syncs)).toFixed(2)} messages per sync, ${Math.round(r.syncs / seconds)} syncs/s`;
  process.stdout.write(`${line(`socket send frames at ${rate}/s for ${seconds} s`, socketRun)}\n`);
  process.stdout.write(`${line(`HTTP POST, 64 connections for ${seconds} s`, httpRun)}\n`);
} finally {
  // The server runs under strace: stop the node process (strace's child), then strace exits.
  const children = readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8')
    .trim()
    .split(/\s+/);
  for (const pid of children) if (pid) process.kill(Number(pid), 'SIGTERM');
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
