/**
 * `parley export` / `parley import` carry the attachments' bytes: upload through the API, export
 * with the CLI, import into a fresh database and storage, download there and compare the bytes;
 * on the database under test (SQLite, then PostgreSQL) and both storage back ends (a folder,
 * S3 through s3rver), and from one back end to the other. Damaged exports (truncated, a file that does not match its SHA-256, a key
 * that leaves the org's folder) fail with one line and change nothing: no org, no file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createFakeClock } from '../../src/domain/clock.ts';
import { createBlobStore } from '../../src/store/blobs/index.ts';
import { call } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { orgWithGroup } from '../support/factories.ts';
import { startS3, type TestS3 } from '../support/s3.ts';
import { ROOT } from '../support/server.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function parley(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/parley.js'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A failure: exit code 1, one line on stderr, no stack trace. */
function assertOneLine(r: Ran, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

/** The app on a database and storage of our choosing. */
async function start(db: TestDatabase, storageUrl: string) {
  const store = db.open();
  const config = loadConfig({ NODE_ID: '7', STORAGE_URL: storageUrl });
  const { app, ctx } = await buildApp(config, { store, clock: createFakeClock(Date.UTC(2026, 10, 21, 9)) });
  await app.ready();
  return {
    app,
    ctx,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

async function download(app: Awaited<ReturnType<typeof start>>['app'], url: string, token: string) {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.rawPayload;
}

const dir = mkdtempSync(join(tmpdir(), 'parley-export-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of ['file', 's3'] as const) {
  describe(`export and import with attachment files (${backend} storage)`, () => {
    const servers: TestS3[] = [];
    const databases: TestDatabase[] = [];
    /** A fresh storage: a folder, or a new bucket on its own s3rver. */
    const storage = async (name: string, kind: 'file' | 's3' = backend) => {
      if (kind === 'file') return pathToFileURL(join(dir, `${backend}-${name}`)).href;
      const s3 = await startS3();
      servers.push(s3);
      return s3.url;
    };
    const database = async () => {
      const db = await createTestDatabase();
      databases.push(db);
      return db;
    };
    const storedKeys = async (url: string) => {
      const blobs = createBlobStore(url, '');
      try {
        return await blobs.list();
      } finally {
        blobs.close();
      }
    };
    const orgCount = async (db: TestDatabase) => {
      const store = db.open();
      try {
        const row = await store.db
          .selectFrom('org')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        return Number(row.n);
      } finally {
        await store.close();
      }
    };

    let exportFile: string;
    let slug: string;
    let token: string;
    let originals: Map<string, Buffer>;
    let urls: string[];

    before(async () => {
      const source = await database();
      const sourceStorage = await storage('source');
      const s = await start(source, sourceStorage);
      try {
        const { o, bob, id } = await orgWithGroup(s);
        slug = o.org.slug;
        token = o.owner.token;
        const up = async (name: string, body: Buffer) => {
          const res = await s.app.inject({
            method: 'POST',
            url: `/v1/conversations/${id}/attachments?name=${encodeURIComponent(name)}`,
            headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/octet-stream' },
            payload: body,
          });
          assert.equal(res.statusCode, 201, res.body);
          return res.json() as { id: string; preview_url: string | null };
        };
        const picture = await sharp({
          create: { width: 300, height: 200, channels: 3, background: '#884422' },
        })
          .png()
          .toBuffer();
        const img = await up('picture.png', picture);
        const doc = await up('notes.txt', Buffer.from('notes kept across servers\n'));
        // Bigger than one file_data record (1 MiB): incompressible bytes in a zip-like container.
        const big = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(1_500_000, 7)]);
        big.set(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256)), 100);
        const zip = await up('big.zip', big);
        const sent = await call(s.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, {
          text: 'files',
          attachments: [img.id, doc.id, zip.id],
        });
        assert.equal(sent.status, 201, sent.raw);
        urls = [
          `/v1/attachments/${img.id}/content`,
          img.preview_url!,
          `/v1/attachments/${doc.id}/content`,
          `/v1/attachments/${zip.id}/content`,
        ];
        originals = new Map();
        for (const u of urls) originals.set(u, await download(s.app, u, token));
        assert.equal((await storedKeys(sourceStorage)).length, 4);
      } finally {
        await s.close();
      }
      exportFile = join(dir, `${backend}-export.jsonl`);
      const exported = await parley(['export', '--org', slug, '--out', exportFile], {
        ...source.env,
        STORAGE_URL: sourceStorage,
      });
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /and 4 files/);
    });

    after(async () => {
      for (const db of databases) await db.drop();
      for (const s3 of servers) await s3.close();
    });

    test(`import into the other storage back end (${backend === 'file' ? 'S3' : 'a folder'}): the same bytes`, async () => {
      const target = await database();
      const targetStorage = await storage('other', backend === 'file' ? 's3' : 'file');
      const imported = await parley(['import', '--file', exportFile], {
        ...target.env,
        STORAGE_URL: targetStorage,
      });
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /and 4 files/);
      const t = await start(target, targetStorage);
      try {
        assert.equal(t.ctx.blobs.kind, backend === 'file' ? 's3' : 'file');
        for (const u of urls) assert.ok((await download(t.app, u, token)).equals(originals.get(u)!), u);
      } finally {
        await t.close();
      }
    });

    test('import into a fresh database and storage: the downloads give the same bytes', async () => {
      const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
      const header = JSON.parse(lines[0]!);
      assert.equal(header.version, 2);
      const files = lines.map((l) => JSON.parse(l)).filter((r) => r.type === 'file');
      assert.equal(files.length, 4);
      assert.deepEqual(JSON.parse(lines.at(-1)!).files, 4);
      const target = await database();
      const targetStorage = await storage('target');
      const imported = await parley(['import', '--file', exportFile, '--json'], {
        ...target.env,
        STORAGE_URL: targetStorage,
      });
      assert.equal(imported.code, 0, imported.stderr);
      assert.equal(JSON.parse(imported.stdout).files, 4);
      assert.equal((await storedKeys(targetStorage)).length, 4);
      const t = await start(target, targetStorage);
      try {
        for (const u of urls) assert.ok((await download(t.app, u, token)).equals(originals.get(u)!), u);
      } finally {
        await t.close();
      }
    });

    /** Imports a damaged copy of the export into a fresh database and storage: nothing changes. */
    const refused = async (damage: (lines: string[]) => string[], pattern: RegExp) => {
      const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
      const bad = join(dir, `${backend}-bad.jsonl`);
      writeFileSync(bad, `${damage(lines).join('\n')}\n`);
      const target = await database();
      const targetStorage = await storage(`bad-${Math.random()}`);
      const r = await parley(['import', '--file', bad], { ...target.env, STORAGE_URL: targetStorage });
      assertOneLine(r, pattern);
      assert.equal(await orgCount(target), 0, 'no org imported');
      assert.deepEqual(await storedKeys(targetStorage), [], 'no file left in storage');
    };
    const lastFile = (lines: string[]) => lines.findLastIndex((l) => JSON.parse(l).type === 'file');

    test('a truncated export (cut inside the last file) is refused, nothing stored', async () => {
      await refused((lines) => lines.slice(0, lines.length - 2), /ends before its end record.*truncated/);
      // Cut in the middle of a line of file data.
      await refused((lines) => {
        const i = lines.findLastIndex((l) => JSON.parse(l).type === 'file_data');
        return [...lines.slice(0, i), lines[i]!.slice(0, 5000)];
      }, /the last line is cut short: the export is truncated/);
    });

    test('a file whose bytes do not match its SHA-256 is refused, the files stored before it removed', async () => {
      await refused((lines) => {
        const i = lastFile(lines);
        assert.ok(
          i > 0 && lines.slice(0, i).some((l) => JSON.parse(l).type === 'file'),
          'files come before it',
        );
        const data = JSON.parse(lines[i + 1]!);
        const bytes = Buffer.from(data.data, 'base64');
        bytes[10] = bytes[10]! ^ 0xff;
        return lines.map((l, j) =>
          j === i + 1 ? JSON.stringify({ ...data, data: bytes.toString('base64') }) : l,
        );
      }, /does not match its SHA-256/);
    });

    test('a file key that leaves the org folder (../x) is refused, nothing stored', async () => {
      await refused((lines) => {
        const i = lastFile(lines);
        return lines.map((l, j) => (j === i ? JSON.stringify({ ...JSON.parse(l), key: '../x' }) : l));
      }, /file key "\.\.\/x" is not a storage key of org/);
      await refused(
        (lines) =>
          lines.map((l) => {
            const r = JSON.parse(l);
            return r.type === 'attachment'
              ? JSON.stringify({ ...r, row: { ...r.row, storage_key: '../../etc/x' } })
              : l;
          }),
        /names storage key "\.\.\/\.\.\/etc\/x", not one of org/,
      );
    });
  });
}
