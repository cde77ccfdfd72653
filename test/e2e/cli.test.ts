/**
 * The `parley` command as a real process (bin/parley.js): help and version without side
 * effects, one-line failures with their exit codes, the admin commands' machine output, backup,
 * and the export/import round trip on SQLite and (with TEST_DATABASE_URL) PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.ts';
import { createTestDatabase } from '../support/db.ts';
import { ROOT } from '../support/server.ts';

const BIN = join(ROOT, 'bin/parley.js');
const PG_URL = process.env.TEST_DATABASE_URL;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function parley(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  opts: { node?: string; uid?: number; gid?: number } = {},
): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      opts.node ?? process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, SQLITE_PATH: join(dir, 'parley.db'), ...env },
        timeout: 60_000,
        ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** A failure as the brief wants it: the exit code, one line on stderr, no stack trace. */
function assertOneLine(r: Ran, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('--help of every command prints its usage, exits 0 and touches nothing', async () => {
  const fresh = join(dir, 'help', 'parley.db');
  const env = { SQLITE_PATH: fresh, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
  for (const args of [
    ['--help'],
    ['help'],
    ['help', 'org', 'create'],
    ['org', '--help'],
    ...COMMANDS.map((c) => [...c.name.split(' '), '--help']),
    ['seed', 'demo', '-h'],
  ]) {
    const r = await parley(args, env);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: parley/, args.join(' '));
    assert.equal(r.stderr, '', args.join(' '));
    assert.ok(r.ms < 5_000, `${args.join(' ')} took ${r.ms} ms`);
  }
  assert.equal(existsSync(join(dir, 'help')), false, 'no help created the data directory');
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = await parley([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  }
});

test('usage errors: one line, exit 2', async () => {
  assertOneLine(await parley(['serve', '--bogus']), 2, /unknown option --bogus.*parley serve --help/);
  assertOneLine(await parley(['migrate', '--port', '1']), 2, /unknown option --port/);
  assertOneLine(await parley(['frobnicate']), 2, /unknown command "frobnicate".*parley --help/);
  assertOneLine(await parley(['--frob']), 2, /unknown option --frob/);
  assertOneLine(await parley(['org']), 2, /needs a subcommand.*org create/);
  assertOneLine(await parley(['org', 'create', '--slug', 'x']), 2, /--owner-email is required/);
  assertOneLine(await parley(['backup']), 2, /missing <file>/);
  assertOneLine(await parley(['migrate'], { PORT: 'eighty' }), 2, /PORT.*fix these environment variables/);
});

test('environment failures: one line naming cause and fix, exit 1, stack only with --debug', async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
    after(() => srv.close());
  });
  const busy = await parley(['serve'], { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  assertOneLine(busy, 1, new RegExp(`port ${port} on 127.0.0.1 is already in use.*set PORT`));

  const refused = await parley(['migrate'], {
    DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/parley',
  });
  assertOneLine(refused, 1, /database at 127\.0\.0\.1:1 refused the connection.*start PostgreSQL/);
  assert.doesNotMatch(refused.stderr, /secret/, 'the password is not printed');

  const unknownHost = await parley(['seed', 'demo'], {
    DATABASE_URL: 'postgres://postgres@no-such-host.invalid/x',
  });
  assertOneLine(unknownHost, 1, /cannot resolve the host name "no-such-host\.invalid".*fix the host name/);

  const proc = await parley(['migrate'], { SQLITE_PATH: '/proc/parley/parley.db' });
  assertOneLine(proc, 2, /\/proc, a kernel filesystem.*set SQLITE_PATH/);
  assert.ok(proc.ms < 5_000, `refused in ${proc.ms} ms`);

  // Permission denied: as root (which may write anywhere) the CLI runs as nobody.
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o555 });
  const asRoot = process.getuid?.() === 0;
  const denied = await parley(
    ['migrate'],
    { SQLITE_PATH: join(locked, 'data', 'parley.db') },
    asRoot ? { uid: 65534, gid: 65534 } : {},
  );
  assertOneLine(denied, 1, /cannot write .*locked.*permission denied.*writable/);

  const debug = await parley(['migrate', '--debug'], {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/parley',
  });
  assert.equal(debug.code, 1);
  assert.match(
    debug.stderr,
    /refused the connection[^\n]*\n[\s\S]*\n\s+at /,
    'the stack follows with --debug',
  );
});

test('a database that does not exist is named, with createdb', {
  skip: !PG_URL && 'TEST_DATABASE_URL unset',
}, async () => {
  const u = new URL(PG_URL!);
  u.pathname = '/parley_no_such_db';
  const r = await parley(['migrate'], { DATABASE_URL: u.toString() });
  assertOneLine(r, 1, /database "parley_no_such_db" does not exist.*createdb .*parley_no_such_db/);
});

test('an old Node is told to use Node 24', async (t) => {
  const system = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
  const major = system
    ? Number(execFileSync(system, ['-p', 'process.versions.node.split(".")[0]']).toString())
    : 24;
  if (!system || major >= 24) return t.skip('no Node older than 24 on this machine');
  const r = await parley(['--help'], {}, { node: system });
  assertOneLine(r, 1, /needs Node 24 .*npm ci.*npx parley/);
});

test('admin commands: --json on stdout alone, token create prints only the token', async () => {
  const env = { SQLITE_PATH: join(dir, 'admin.db') };
  const migrated = await parley(['migrate', '--json'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.ok((JSON.parse(migrated.stdout) as { applied: string[] }).applied.length > 0);

  const org = await parley(
    ['org', 'create', '--slug', 'acme', '--owner-email', 'o@acme.test', '--json'],
    env,
  );
  assert.equal(org.code, 0, org.stderr);
  const made = JSON.parse(org.stdout) as { org: { slug: string }; token: string };
  assert.equal(made.org.slug, 'acme');
  assert.match(made.token, /^pk_/);

  const token = await parley(
    ['token', 'create', '--org', 'acme', '--actor', 'o@acme.test', '--scopes', 'admin'],
    env,
  );
  assert.equal(token.code, 0, token.stderr);
  assert.match(token.stdout, /^pk_\S+\n$/);
  assert.match(token.stderr, /scopes: admin/);

  const app = await parley(['app', 'create', '--org', 'acme', '--name', 'a', '--json'], env);
  assert.equal(app.code, 0, app.stderr);
  assert.equal(typeof (JSON.parse(app.stdout) as { app_id: number }).app_id, 'number');

  assertOneLine(
    await parley(['token', 'create', '--org', 'nope', '--actor', 'x'], env),
    1,
    /no org with slug nope/,
  );
  assertOneLine(
    await parley(['org', 'create', '--slug', 'acme', '--owner-email', 'p@acme.test'], env),
    1,
    /acme/,
  );
});

test('backup copies the SQLite database; PostgreSQL is pointed at pg_dump', async () => {
  const env = { SQLITE_PATH: join(dir, 'live.db') };
  assert.equal((await parley(['seed', 'demo'], env)).code, 0);
  const file = join(dir, 'copy.db');
  const r = await parley(['backup', file, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { file: string }).file, file);
  const copy = new DatabaseSync(file, { readOnly: true });
  assert.deepEqual({ ...copy.prepare('SELECT slug FROM org').get() }, { slug: 'demo' });
  copy.close();

  assertOneLine(await parley(['backup', file], env), 1, /exists.*--force/);
  assert.equal((await parley(['backup', file, '--force'], env)).code, 0);
  assertOneLine(
    await parley(['backup', file], { DATABASE_URL: 'postgres://u:pw@db.example:5432/parley' }),
    1,
    /pg_dump --format=custom --file=.*copy\.db 'postgres:\/\/u:\*\*\*@db\.example:5432\/parley'/,
  );
});

/** The records of an export without its header (which names the time and the dialect). */
function records(text: string): unknown[] {
  const lines = text.trim().split('\n');
  assert.equal((JSON.parse(lines[0]!) as { type: string }).type, 'header');
  return lines.slice(1).map((l) => JSON.parse(l));
}

async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await createTestDatabase({ dialect: 'postgres', serverUrl: PG_URL });
  return { url: db.url!, drop: () => db.drop() };
}

test('export, import into a new database, export again: the same records', async (t) => {
  const source = { SQLITE_PATH: join(dir, 'source.db') };
  assert.equal((await parley(['seed', 'demo'], source)).code, 0);
  assert.equal((await parley(['app', 'create', '--org', 'demo', '--name', 'signed'], source)).code, 0);
  const file = join(dir, 'demo.jsonl');
  const exported = await parley(['export', '--org', 'demo', '--out', file], source);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stdout, '');
  const first = readFileSync(file, 'utf8');
  const types = new Set(records(first).map((r) => (r as { type: string }).type));
  for (const type of [
    'org',
    'actor',
    'access_token',
    'conversation',
    'membership',
    'message',
    'sticky_message',
    'app',
  ])
    assert.ok(types.has(type), `the export has ${type} rows`);
  assert.ok(!types.has('event'), 'the event log is not exported');
  assert.doesNotMatch(first, /"token":"pk_/, 'tokens appear only as hashes');

  // Also to stdout: the same records.
  const toStdout = await parley(['export', '--org', 'demo'], source);
  assert.deepEqual(records(toStdout.stdout), records(first));

  await t.test('SQLite to SQLite', async () => {
    const target = { SQLITE_PATH: join(dir, 'target.db') };
    const imported = await parley(['import', '--file', file, '--json'], target);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((JSON.parse(imported.stdout) as { org: { slug: string } }).org.slug, 'demo');
    const again = await parley(['export', '--org', 'demo'], target);
    assert.deepEqual(records(again.stdout), records(first));
    // The imported messages are in the search index, and nothing waits for it.
    const index = new DatabaseSync(target.SQLITE_PATH, { readOnly: true });
    try {
      const hits = index
        .prepare("select count(*) as n from message_fts where message_fts match 'welcome'")
        .get();
      assert.ok(Number(hits?.n) >= 1, 'the demo welcome message is found');
      assert.equal(Number(index.prepare('select count(*) as n from message_fts_pending').get()?.n), 0);
    } finally {
      index.close();
    }
    assertOneLine(await parley(['import', '--file', file], target), 1, /slug demo exists.*--org-slug/);
    assertOneLine(
      await parley(['import', '--file', file, '--org-slug', 'demo2'], target),
      1,
      /org id \d+ is already in this database/,
    );
  });

  await t.test('SQLite to PostgreSQL and back', { skip: !PG_URL && 'TEST_DATABASE_URL unset' }, async () => {
    const a = await freshPgDatabase();
    const b = await freshPgDatabase();
    try {
      const imported = await parley(['import', '--file', file, '--org-slug', 'copied'], {
        DATABASE_URL: a.url,
      });
      assert.equal(imported.code, 0, imported.stderr);
      const fromPg = await parley(['export', '--org', 'copied'], { DATABASE_URL: a.url });
      assert.equal(fromPg.code, 0, fromPg.stderr);
      const rename = (rs: unknown[]) =>
        rs.map((r) => {
          const rec = r as { type: string; row?: { slug?: string } };
          return rec.type === 'org' ? { ...rec, row: { ...rec.row, slug: 'demo' } } : rec;
        });
      assert.deepEqual(rename(records(fromPg.stdout)), records(first));
      const pgFile = join(dir, 'pg.jsonl');
      assert.equal(
        (await parley(['export', '--org', 'copied', '--out', pgFile], { DATABASE_URL: a.url })).code,
        0,
      );
      const second = await parley(['import', '--file', pgFile], { DATABASE_URL: b.url });
      assert.equal(second.code, 0, second.stderr);
      const fromB = await parley(['export', '--org', 'copied'], { DATABASE_URL: b.url });
      assert.deepEqual(records(fromB.stdout), records(fromPg.stdout));
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  await t.test('a truncated export is refused and leaves nothing behind', async () => {
    const cut = join(dir, 'cut.jsonl');
    const lines = first.trim().split('\n');
    execFileSync('sh', ['-c', `head -n ${lines.length - 1} ${file} > ${cut}`]);
    const target = { SQLITE_PATH: join(dir, 'cut.db') };
    assertOneLine(await parley(['import', '--file', cut], target), 1, /truncated/);
    const db = new DatabaseSync(join(dir, 'cut.db'), { readOnly: true });
    assert.deepEqual({ ...db.prepare('SELECT count(*) AS n FROM org').get() }, { n: 0 });
    db.close();
  });
});

test('admin token: issues an instance-admin token (stored hashed), lists and revokes; one-line errors', async () => {
  const env = { SQLITE_PATH: join(dir, 'instance.db') };
  const issued = await parley(['admin', 'token', '--name', 'ops', '--json'], env);
  assert.equal(issued.code, 0, issued.stderr);
  const made = JSON.parse(issued.stdout) as { token: string; id: string; name: string };
  assert.match(made.token, /^pia_\S+$/);
  assert.equal(made.name, 'ops');
  const plain = await parley(['admin', 'token'], env);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^pia_\S+\n$/);
  assert.match(plain.stderr, /\/v1\/instance/);
  // Stored as a hash only.
  const db = new DatabaseSync(join(dir, 'instance.db'), { readOnly: true });
  const rows = db.prepare('select token_hash from instance_admin_token').all() as { token_hash: string }[];
  db.close();
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash) && !issued.stdout.includes(r.token_hash)));
  const listed = JSON.parse((await parley(['admin', 'token', '--list', '--json'], env)).stdout) as {
    items: { id: string; revoked_at: string | null }[];
  };
  assert.equal(listed.items.length, 2);
  assert.doesNotMatch(JSON.stringify(listed), /pia_/);
  const revoked = await parley(['admin', 'token', '--revoke', made.id, '--json'], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assertOneLine(
    await parley(['admin', 'token', '--revoke', made.id], env),
    1,
    /no live instance-admin token/,
  );
  assertOneLine(await parley(['admin', 'token', '--revoke', 'abc'], env), 2, /takes a token id/);
  assertOneLine(await parley(['admin', 'token', '--list', '--revoke', '1'], env), 2, /not both/);
  assertOneLine(await parley(['admin', 'token', '--expires-in-days', '0'], env), 2, /positive number/);
  assertOneLine(await parley(['admin'], env), 2, /needs a subcommand.*admin token/);
});

test('token create reads scope names as the API does: vendor names, any case, . for :', async () => {
  const env = { SQLITE_PATH: join(dir, 'scopes.db') };
  const org = await parley(['org', 'create', '--slug', 'sc', '--owner-email', 'o@sc.test', '--json'], env);
  assert.equal(org.code, 0, org.stderr);
  const token = await parley(
    [
      'token',
      'create',
      '--org',
      'sc',
      '--actor',
      'o@sc.test',
      '--scopes',
      'ZohoCliq.Chats.READ, Messages.Write',
      '--json',
    ],
    env,
  );
  assert.equal(token.code, 0, token.stderr);
  assert.deepEqual((JSON.parse(token.stdout) as { scopes: string[] }).scopes, [
    'conversations:read',
    'messages:write',
  ]);
  assertOneLine(
    await parley(
      ['token', 'create', '--org', 'sc', '--actor', 'o@sc.test', '--scopes', 'messages:read bogus'],
      env,
    ),
    2,
    /unknown scopes: bogus/,
  );
});

test('admin commands do not load the HTTP app', () => {
  // Every module an admin command's code resolves, recorded by a resolve hook: no Fastify, no app.ts.
  const modules = ['admin.ts', 'migrate.ts', 'export.ts', 'backup.ts'].map((f) =>
    JSON.stringify(join(ROOT, 'src/cli', f)),
  );
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { registerHooks } from 'node:module';
       const seen = [];
       registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
       for (const m of [${modules.join(',')}]) await import(m);
       console.log(JSON.stringify(seen.filter((u) => u.includes('/node_modules/fastify/') || u.endsWith('/src/app.ts'))));`,
    ],
    { cwd: ROOT },
  ).toString();
  assert.deepEqual(JSON.parse(out), []);
});
