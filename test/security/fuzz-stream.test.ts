import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { isId } from '../../src/domain/ids.ts';
import { buildTestApp, call, type TestApp } from '../support/app.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';
import {
  diffSnapshots,
  FUZZ_SEED,
  nastySegment,
  nastyString,
  nativeShape,
  out,
  scale,
  snapshotDb,
} from '../support/fuzz.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

/**
 * Fuzz of the realtime stream over real sockets: fuzzed frames (invalid JSON, unknown types,
 * wrong field types, binary frames, bad UTF-8, frames over the size limit, floods) and fuzzed
 * upgrades. The server must answer with its documented error frames and close codes
 * (docs/api.md), never an `internal` error or a crash; a healthy socket on the same server keeps
 * receiving events; refused frames change nothing in the database.
 */

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
/** Close codes the stream documents (docs/api.md) plus the WebSocket protocol's own for bad frames. */
const DOCUMENTED_CLOSES = new Set([1000, 1001, 1007, 1009, 4001, 4008, 4009, 4029, 4400]);
const SERVER_TYPES = new Set(['ready', 'event', 'error', 'ack', 'pong']);

let t: TestApp;
let base: string;
let o: TestOrg;
let ada: Person;
let carol: Person;
let readOnly: string;
let groupId: string;
let strangerGroupId: string;
let otherOrgGroupId: string;

before(async () => {
  // The per-socket frame budget is raised so the fuzz reaches the frame handlers; the flood test
  // below runs on a server with the default budget.
  t = await buildTestApp({ STREAM_FRAMES_PER_SECOND: '100000' }, { gateway: { pingMs: 60_000 } });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  o = await makeOrg(t.ctx);
  ada = await o.user('member', 'Ada');
  carol = await o.user('member', 'Carol');
  const bob = await o.user('member', 'Bob');
  const g = await call(t.app, ada.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'stream fuzz',
    member_ids: [carol.actor.id, bob.actor.id],
  });
  groupId = g.body.id;
  strangerGroupId = (
    await call(t.app, bob.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'not ada',
      member_ids: [],
    })
  ).body.id;
  const other = await makeOrg(t.ctx);
  otherOrgGroupId = (
    await call(t.app, other.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'x' })
  ).body.id;
  readOnly = await o.token(ada.actor, ['messages:read']);
});
after(async () => t.close());

// ---------------------------------------------------------------------------------------------
// Frames

interface Frame {
  data: string | Buffer;
  /** Sent as a binary frame. */
  binary: boolean;
  note: string;
}

let clientSeq = 0;
const clientIds = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null).map(() => `c-${FUZZ_SEED}-${++clientSeq}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>('', ' ', 'x'.repeat(129), 'ключ', 'a b', 42, null, ['c'], { c: 1 }),
  },
  { weight: 1, arbitrary: nastyString },
);

function objectFrames(): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record(
      {
        type: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('send', 'typing', 'ping') },
          {
            weight: 1,
            arbitrary: fc.constantFrom<unknown>('SEND', 'event', 'ack', '', 7, null, ['send'], { t: 1 }),
          },
          { weight: 1, arbitrary: nastyString },
        ),
        conversation_id: fc.oneof(
          { weight: 3, arbitrary: fc.constant(groupId) },
          { weight: 2, arbitrary: fc.constantFrom(strangerGroupId, otherOrgGroupId) },
          { weight: 2, arbitrary: nastySegment },
          {
            weight: 1,
            arbitrary: fc.constantFrom<unknown>(Number(groupId), 1, -1, null, [groupId], { id: groupId }),
          },
        ),
        text: fc.oneof(
          { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
          {
            weight: 1,
            arbitrary: fc.constantFrom<unknown>('', 'x'.repeat(10_001), 5, null, true, ['a'], { a: 1 }),
          },
          { weight: 1, arbitrary: nastyString },
        ),
        client_id: clientIds,
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['type', 'conversation_id', 'text', 'client_id'] },
    )
    .chain((f) =>
      // Now and then a field is missing.
      fc
        .oneof(
          { weight: 4, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom('type', 'conversation_id', 'text', 'client_id') },
        )
        .map((drop) => {
          const copy: Record<string, unknown> = { ...f };
          if (drop) delete copy[drop];
          return copy;
        }),
    );
}

/** Made inside the test: the arbitraries use the ids made in `before`. */
const frames = (): fc.Arbitrary<Frame> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: objectFrames().map((f) => ({ data: JSON.stringify(f), binary: false, note: 'object' })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            '',
            ' ',
            '{',
            '}',
            'null',
            '[]',
            '"send"',
            '{"type":"send",}',
            '{"type":"ping"}x',
            'NaN',
          ),
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? ''),
          fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
          fc.constant(`{"type":"typing","conversation_id":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`),
        )
        .map((data) => ({ data, binary: false, note: 'not an object' })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
          objectFrames().map((f) => Buffer.from(JSON.stringify(f))),
        )
        .map((data) => ({ data, binary: true, note: 'binary' })),
    },
  );

/** Frames that end the socket: bad UTF-8 in a text frame (1007), a frame over the limit (1009). */
const killers: fc.Arbitrary<Frame & { close: number }> = fc.constantFrom(
  { data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), binary: false, note: 'bad UTF-8 text frame', close: 1007 },
  { data: Buffer.from([0xed, 0xa0, 0x80]), binary: false, note: 'surrogate in UTF-8', close: 1007 },
  {
    data: `{"type":"send","text":"${'x'.repeat(70_000)}"}`,
    binary: false,
    note: 'text frame over 64 KiB',
    close: 1009,
  },
  { data: Buffer.alloc(70_000, 1), binary: true, note: 'binary frame over 64 KiB', close: 1009 },
);

/** What the gateway will do with a frame, mirroring its checks: does it answer a ping, or reach the database? */
function expectation(frame: Frame, scopes: 'all' | 'read'): { pong: boolean; sendClientId: string | null } {
  let msg: unknown;
  try {
    msg = JSON.parse(Buffer.isBuffer(frame.data) ? frame.data.toString() : frame.data);
  } catch {
    return { pong: false, sendClientId: null };
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { pong: false, sendClientId: null };
  const m = msg as Record<string, unknown>;
  if (m.type === 'ping') return { pong: true, sendClientId: null };
  const reachesDb =
    m.type === 'send' &&
    scopes === 'all' &&
    isId(m.conversation_id) &&
    typeof m.text === 'string' &&
    m.text.length > 0 &&
    m.text.length <= 10_000 &&
    !m.text.includes('\u0000') &&
    typeof m.client_id === 'string' &&
    CLIENT_ID.test(m.client_id);
  return { pong: false, sendClientId: reachesDb ? (m.client_id as string) : null };
}

function checkServerFrame(f: any): string | null {
  if (!f || typeof f !== 'object' || !SERVER_TYPES.has(f.type)) return `unknown frame ${JSON.stringify(f)}`;
  if (f.type === 'error') {
    if (typeof f.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(f.code)) return `error code ${f.code}`;
    if (f.code === 'internal') return `internal error: ${f.message}`;
    if (typeof f.message !== 'string' || f.message === '') return 'error without message';
  }
  return null;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function sendFrame(s: StreamClient, f: Frame): void {
  s.ws.send(f.data, { binary: f.binary });
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: realtime stream', () => {
  test('fuzzed frames: documented error frames and close codes only, a healthy socket keeps its events, refused frames change nothing', async () => {
    const violations: string[] = [];
    const stats = {
      frames: 0,
      batches: 0,
      dbChecks: 0,
      dbChanges: 0,
      acks: 0,
      errors: 0,
      closes: new Map<number, number>(),
    };
    const healthy = await connectStream(base, { token: carol.token });
    await healthy.next((f) => f.type === 'ready');
    let checked = 0;
    const errorCodes = new Map<string, number>();
    let baseline = await snapshotDb(t.ctx.db);

    await fc.assert(
      fc.asyncProperty(
        fc.array(frames(), { minLength: 1, maxLength: 10 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: killers }),
        fc.constantFrom<'all' | 'read'>('all', 'all', 'all', 'read'),
        async (batch, killer, scopes) => {
          stats.batches += 1;
          const s = await connectStream(base, { token: scopes === 'all' ? ada.token : readOnly });
          await s.next((f) => f.type === 'ready');
          let pongs = 0;
          const sends: string[] = [];
          for (const f of batch) {
            const e = expectation(f, scopes);
            if (e.pong) pongs += 1;
            if (e.sendClientId) sends.push(e.sendClientId);
            sendFrame(s, f);
            stats.frames += 1;
          }
          // Settle: the pongs come back in order after every synchronous answer, and every
          // send that reaches the database answers with its client_id (ack or error).
          s.send({ type: 'ping' });
          pongs += 1;
          try {
            await waitFor(() => s.frames.filter((f) => f.type === 'pong').length >= pongs, 5000, 'pongs');
            for (const id of sends)
              await waitFor(
                () => s.frames.some((f) => f.client_id === id && (f.type === 'ack' || f.type === 'error')),
                5000,
                `the answer to send ${id}`,
              );
          } catch (err) {
            violations.push(`${(err as Error).message}; frames: ${batch.map((f) => f.note).join(', ')}`);
          }
          if (killer) {
            sendFrame(s, killer);
            stats.frames += 1;
            const { code } = await s.closed;
            stats.closes.set(code, (stats.closes.get(code) ?? 0) + 1);
            if (code !== killer.close)
              violations.push(`${killer.note}: closed with ${code}, expected ${killer.close}`);
          } else {
            await s.close();
          }
          for (const f of s.frames) {
            const problem = checkServerFrame(f);
            if (problem) violations.push(`${problem} (batch: ${batch.map((x) => x.note).join(', ')})`);
            if (f.type === 'error') {
              stats.errors += 1;
              errorCodes.set(f.code, (errorCodes.get(f.code) ?? 0) + 1);
            }
          }
          const created = s.frames.filter((f) => f.type === 'ack' && f.created === true).length;
          stats.acks += created;
          const after = await snapshotDb(t.ctx.db);
          if (created === 0) {
            stats.dbChecks += 1;
            const diffs = diffSnapshots(baseline, after);
            if (diffs.length > 0) {
              stats.dbChanges += 1;
              violations.push(`refused frames changed ${diffs.map((d) => d.table).join(', ')}`);
            }
          }
          baseline = after;
          // The server is alive and the healthy socket still gets events.
          if (stats.batches % 5 === 0) {
            const m = await call(t.app, ada.token, 'POST', `/v1/conversations/${groupId}/messages`, {
              text: `canary ${stats.batches}`,
            });
            assert.equal(m.status, 201, m.raw);
            const ev = await healthy.next(
              (f) => f.type === 'event' && f.event === 'message.created' && f.data.message.id === m.body.id,
            );
            assert.ok(ev);
            checked += 1;
            baseline = await snapshotDb(t.ctx.db);
          }
        },
      ),
      { numRuns: scale(100), seed: FUZZ_SEED, endOnFailure: true },
    );
    assert.equal(healthy.ws.readyState, WebSocket.OPEN, 'the healthy socket is still open');
    for (const f of healthy.frames) assert.equal(checkServerFrame(f), null);
    await healthy.close();
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const closes = [...stats.closes].map(([c, n]) => `${c}:${n}`).join(' ');
    out(
      `fuzz stream: ${stats.frames} frames in ${stats.batches} sockets, ${errorCodes.get('internal') ?? 0} internal errors, ${stats.dbChanges} db changes (${stats.errors} error frames, ${stats.acks} sends stored, ${stats.dbChecks} db snapshots compared, closes ${closes}, ${checked} canary events; seed ${FUZZ_SEED})`,
    );
    out(`fuzz stream error frames: ${[...errorCodes].map(([c, n]) => `${c}:${n}`).join(' ')}`);
    assert.deepEqual(violations.slice(0, 15), []);
    for (const code of stats.closes.keys()) assert.ok(DOCUMENTED_CLOSES.has(code), `close code ${code}`);
  });

  test('fuzzed upgrades: refused with a 4xx in the native error shape, or opened and closed with a documented code', async () => {
    const stats = { upgrades: 0, refused: 0, opened: 0, byStatus: new Map<number, number>() };
    const before = await snapshotDb(t.ctx.db);
    const violations: string[] = [];
    const tokenArb = fc.oneof(
      fc.constant(ada.token),
      fc.constant(readOnly),
      fc.constantFrom('', 'pk_nope', `${ada.token}x`, 'x'.repeat(300), 'Bearer', '%00'),
      nastyString.map((s) => s.replace(/[^\x21-\x7e]/g, '')),
    );
    await fc.assert(
      fc.asyncProperty(
        tokenArb,
        fc.constantFrom('header', 'protocol', 'query', 'none'),
        fc.option(
          fc.oneof(
            fc.constantFrom(
              '-1',
              'abc',
              '1e3',
              '99999999999999999999',
              '9007199254740993',
              '0',
              '1',
              '%00',
              '',
            ),
            fc.nat().map(String),
          ),
          { freq: 2 },
        ),
        fc.option(fc.constantFrom('chat', 'parley, parley', 'bearer.', ' , ', 'x'.repeat(500)), { freq: 4 }),
        async (token, via, since, protocol) => {
          stats.upgrades += 1;
          const url = new URL('/v1/stream', base.replace(/^http/, 'ws'));
          if (since !== null) url.search = `since=${since}`;
          if (via === 'query')
            url.search += `${url.search ? '&' : ''}access_token=${encodeURIComponent(token)}`;
          const protocols: string[] = [];
          if (via === 'protocol') protocols.push('parley', `bearer.${token}`);
          if (protocol !== null)
            protocols.push(
              ...protocol
                .split(',')
                .map((p) => p.trim())
                .filter(Boolean),
            );
          const headers = via === 'header' ? { authorization: `Bearer ${token}` } : undefined;
          let ws: WebSocket;
          try {
            ws = new WebSocket(url, [...new Set(protocols)], { headers });
          } catch {
            return; // the client library refuses to send it (an invalid subprotocol)
          }
          const outcome = await new Promise<
            | { kind: 'refused'; status: number; body: string; headers: Record<string, unknown> }
            | { kind: 'open' }
            | { kind: 'error' }
          >((resolve) => {
            ws.once('open', () => resolve({ kind: 'open' }));
            ws.once('unexpected-response', (_req, res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => {
                body += c;
              });
              res.on('end', () =>
                resolve({ kind: 'refused', status: res.statusCode ?? 0, body, headers: res.headers }),
              );
            });
            ws.once('error', () => resolve({ kind: 'error' }));
          });
          if (outcome.kind === 'refused') {
            stats.refused += 1;
            stats.byStatus.set(outcome.status, (stats.byStatus.get(outcome.status) ?? 0) + 1);
            let body: unknown;
            try {
              body = JSON.parse(outcome.body);
            } catch {
              body = undefined;
            }
            const problem =
              outcome.status >= 500
                ? `${outcome.status}`
                : nativeShape(
                    { status: outcome.status, headers: outcome.headers, body, raw: outcome.body },
                    {
                      method: 'GET',
                      url: url.pathname,
                      headers: {},
                      note: 'upgrade',
                    },
                  );
            if (problem)
              violations.push(
                `upgrade ${via} since=${since} protocol=${protocol}: ${problem} ${outcome.body.slice(0, 200)}`,
              );
            ws.terminate();
            return;
          }
          if (outcome.kind === 'error') return;
          stats.opened += 1;
          const frames: any[] = [];
          ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
          const closed = once(ws, 'close');
          await new Promise((r) => setTimeout(r, 30));
          if (ws.readyState === WebSocket.OPEN) ws.close();
          const [code] = (await closed) as [number];
          if (!DOCUMENTED_CLOSES.has(code) && code !== 1005)
            violations.push(`close ${code} after since=${since}`);
          for (const f of frames) {
            const problem = checkServerFrame(f);
            if (problem) violations.push(problem);
          }
        },
      ),
      { numRuns: scale(80), seed: FUZZ_SEED + 1, endOnFailure: true },
    );
    const statuses = [...stats.byStatus].map(([k, v]) => `${k}:${v}`).join(' ');
    const fiveXx = [...stats.byStatus].filter(([k]) => k >= 500).reduce((n, [, v]) => n + v, 0);
    const changed = diffSnapshots(before, await snapshotDb(t.ctx.db));
    out(
      `fuzz stream upgrades: ${stats.upgrades} requests, ${fiveXx} 5xx, ${changed.length} db changes (${stats.refused} refused: ${statuses}; ${stats.opened} opened)`,
    );
    assert.deepEqual(violations.slice(0, 15), []);
    assert.deepEqual(changed, [], 'upgrades changed the database');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  test('floods of typing, pings and garbage on the default frame budget: documented answers, the server stays healthy', async () => {
    const f = await buildTestApp({}, { gateway: { pingMs: 60_000 } });
    try {
      const url = await f.app.listen({ port: 0, host: '127.0.0.1' });
      const org = await makeOrg(f.ctx);
      const a = await org.user('member', 'Ada');
      const c = await org.user('member', 'Carol');
      const g = (
        await call(f.app, a.token, 'POST', '/v1/conversations', {
          kind: 'group',
          title: 'f',
          member_ids: [c.actor.id],
        })
      ).body.id as string;
      const listener = await connectStream(url, { token: c.token });
      await listener.next((x) => x.type === 'ready');
      const before = await snapshotDb(f.ctx.db);
      const floods: [string, () => unknown][] = [
        ['typing', () => ({ type: 'typing', conversation_id: g })],
        ['ping', () => ({ type: 'ping' })],
        ['garbage', () => '{not json'],
        ['unknown', () => ({ type: 'subscribe', conversation_id: g })],
      ];
      const n = scale(1000);
      let sent = 0;
      let internal = 0;
      for (const [name, make] of floods) {
        const s = await connectStream(url, { token: a.token });
        await s.next((x) => x.type === 'ready');
        for (let i = 0; i < n && s.ws.readyState === WebSocket.OPEN; i++) {
          const v = make();
          s.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
          sent += 1;
        }
        s.send({ type: 'ping' });
        // Answered (pong) or closed for flooding: both are documented.
        await Promise.race([s.next((x) => x.type === 'pong', 10_000).catch(() => null), s.closed]);
        await new Promise((r) => setTimeout(r, 50));
        internal += s.frames.filter((x) => x.code === 'internal').length;
        for (const x of s.frames)
          assert.equal(checkServerFrame(x), null, `${name} flood: ${JSON.stringify(x)}`);
        const codes = new Set(s.frames.filter((x) => x.type === 'error').map((x) => x.code));
        for (const code of codes)
          assert.ok(
            ['invalid_frame', 'unknown_frame', 'rate_limited'].includes(code),
            `${name} flood: error ${code}`,
          );
        const closeCode = s.ws.readyState === WebSocket.CLOSED ? (await s.closed).code : null;
        if (closeCode !== null)
          assert.ok(DOCUMENTED_CLOSES.has(closeCode), `${name} flood closed with ${closeCode}`);
        out(
          `fuzz stream flood ${name}: ${n} frames, ${s.frames.length} answers (${s.frames.filter((x) => x.code === 'rate_limited').length} rate_limited), ${closeCode === null ? 'still open' : `closed ${closeCode}`}`,
        );
        await s.close();
      }
      // The listener got at most one typing notice per two seconds (the server folds repeats).
      const typing = listener.frames.filter((x) => x.type === 'event' && x.event === 'typing.started');
      assert.ok(typing.length <= 1, `${typing.length} typing events for one flood`);
      const changed = diffSnapshots(before, await snapshotDb(f.ctx.db));
      assert.deepEqual(changed, [], 'floods changed the database');
      // The server is healthy: a new message reaches the listener, and a new socket opens.
      const m = await call(f.app, a.token, 'POST', `/v1/conversations/${g}/messages`, {
        text: 'after the flood',
      });
      assert.equal(m.status, 201);
      await listener.next(
        (x) => x.type === 'event' && x.event === 'message.created' && x.data.message.id === m.body.id,
      );
      const again = await connectStream(url, { token: a.token });
      await again.next((x) => x.type === 'ready');
      await again.close();
      await listener.close();
      out(`fuzz stream floods: ${sent} frames, ${internal} internal errors, ${changed.length} db changes`);
    } finally {
      await f.close();
    }
  });
});
