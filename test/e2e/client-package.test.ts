/**
 * The @parley/client package (packages/client) as a user gets it: `npm pack` makes a tarball,
 * a scratch project in a temp folder installs it offline (its only dependencies, openapi-fetch
 * and ws, are packed from this repository's node_modules), type-checks a file that uses it and runs a script
 * that calls a live server through the REST client and the stream client (with a reconnection
 * that catches up by `since`).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { orgWithGroup } from '../support/factories.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = join(root, 'packages', 'client');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // npm scripts find tsc in the repository's node_modules/.bin.
    env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` },
  });

let t: TestApp;
let base: string;
let dir: string;
before(async () => {
  t = await buildTestApp({}, { gateway: { pingMs: 100, gapFillMs: 50 } });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  dir = mkdtempSync(join(tmpdir(), 'parley-client-pkg-'));
});
after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

test('npm pack gives an installable package that types and works from a scratch project', async () => {
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], pkg)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = packed[0]!.files.map((f) => f.path).sort();
  for (const f of [
    'README.md',
    'asyncapi.json',
    'dist/index.d.ts',
    'dist/index.js',
    'dist/schema.d.ts',
    'openapi.json',
    'package.json',
  ])
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  assert.ok(!files.some((f) => f.startsWith('src/')), 'no TypeScript sources shipped');
  const tgz = join(dir, packed[0]!.filename);

  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  // Offline: its dependencies come packed from this repository's node_modules (the versions
  // the lockfile pins), so no registry is asked anything.
  const deps = ['openapi-fetch', 'openapi-typescript-helpers', 'ws'].map((name) => {
    const [info] = JSON.parse(
      npm(['pack', '--json', '--pack-destination', dir, join(root, 'node_modules', name)], dir),
    );
    return join(dir, info.filename);
  });
  npm(['install', '--offline', '--no-audit', '--no-fund', tgz, ...deps], app);
  assert.deepEqual(readdirSync(join(app, 'node_modules', '@parley')), ['client']);

  // Types: a path, its parameters and its answer are checked; a wrong path is an error.
  writeFileSync(
    join(app, 'check.ts'),
    `import { createParleyClient, connectStream, type EventFrame } from '@parley/client';
const parley = createParleyClient({ baseUrl: 'http://x', token: 't' });
const r = await parley.GET('/v1/conversations/{id}', { params: { path: { id: '1' } } });
const title: string | null | undefined = r.data?.title;
const s = connectStream({ baseUrl: 'http://x', token: 't', onEvent: (e: EventFrame) => e.event === 'message.created' });
s.stop();
// @ts-expect-error: not a route of the API
await parley.GET('/v1/nope');
export { title };
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        lib: ['es2022', 'dom'],
      },
      files: ['check.ts'],
    }),
  );
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', app], { cwd: app, encoding: 'utf8' });

  // At run time, against this server.
  const { o, id } = await orgWithGroup(t);
  writeFileSync(
    join(app, 'run.mjs'),
    `import { createParleyClient, connectStream } from '@parley/client';
const [baseUrl, token, id] = process.argv.slice(2);
const parley = createParleyClient({ baseUrl, token });
const me = await parley.GET('/v1/me');
const events = [];
let readies = 0;
let onReady;
const stream = connectStream({ baseUrl, token, minDelayMs: 10,
  onReady: () => { readies++; onReady?.(); },
  onEvent: (e) => events.push({ seq: e.seq, event: e.event, text: e.data.message?.text }) });
const waitFor = (pred) => new Promise((resolve, reject) => {
  const started = Date.now();
  const tick = () => pred() ? resolve() : Date.now() - started > 5000 ? reject(new Error('timeout')) : setTimeout(tick, 10);
  tick();
});
await waitFor(() => readies === 1);
const send = (text) => parley.POST('/v1/conversations/{id}/messages', { params: { path: { id } }, body: { text } });
await send('one');
await waitFor(() => events.some((e) => e.text === 'one'));
const before = stream.lastSeq;
stream.reconnect();
await send('two'); // while the stream reconnects: caught up by since
await waitFor(() => readies === 2 && events.some((e) => e.text === 'two'));
await send('three');
await waitFor(() => events.some((e) => e.text === 'three'));
stream.stop();
console.log(JSON.stringify({ me: me.data?.actor?.id ?? me.data?.id ?? null, status: me.response.status, before, events }));
`,
  );
  // Not execFileSync: the server answering the script runs in this process.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['run.mjs', base, o.owner.token, id], {
    cwd: app,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const result = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.equal(result.status, 200);
  const texts = result.events.filter((e: any) => e.event === 'message.created').map((e: any) => e.text);
  assert.deepEqual(texts, ['one', 'two', 'three'], 'each message once, in order, across the reconnection');
  const seqs = result.events.map((e: any) => e.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
});
