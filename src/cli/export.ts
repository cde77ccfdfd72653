import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { BLOB_KEY, type BlobStore, createBlobStore } from '../store/blobs/index.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { indexPendingMessages } from '../store/repos/search.ts';
import { CliError, type Invocation, printJson, str } from './spec.ts';
import { withStore } from './store.ts';

/**
 * `parley export` / `parley import`: one org's data as JSON lines. The tables and their
 * columns are read from the database itself (so the format follows the migrations), the
 * known ones in dependency order and any other table with an `org_id` column after them.
 *
 *   {"type":"header","format":"parley-export","version":2,"dialect":...,"org":{"id","slug"},"tables":[...]}
 *   {"type":"<table>","row":{<column>: <value>, ...}}      one line per row, tables in order
 *   {"type":"file","key":"<org>/<id>","size":n,"sha256":"<hex>","content_type":"…"}   version 2:
 *   {"type":"file_data","data":"<base64>"}                  the file's bytes, FILE_CHUNK at a time
 *   {"type":"end","counts":{"<table>": n, ...},"files":n}   absent = the file is truncated
 *
 * Values are as stored: ids are numbers when they fit a double and decimal strings when they
 * do not, times epoch milliseconds, JSON columns text, token secrets only as their hashes.
 *
 * Version 2 carries the attachments' bytes (file and preview) after the tables, in the same
 * stream, so an export stays one file (or a pipe) whose end record proves it complete, read by
 * the same reader, with no archive format to add; the price is base64 (a third larger). Each
 * file's size and SHA-256 are checked on import before anything is committed. Version 1 files
 * (no file records) are still read.
 */
export const FORMAT = 'parley-export';
export const VERSION = 2;
/** Versions this Parley imports. */
const READS = [1, 2];
/** Bytes of a file per `file_data` record (a line stays a few MiB, whatever the file). */
const FILE_CHUNK = 1024 * 1024;

/** Known tables, parents before children (foreign keys hold while importing in this order). */
const ORDER = [
  'org',
  'actor',
  'access_token',
  'department',
  'operator_department',
  'conversation',
  'membership',
  'message',
  'sticky_message',
  'app',
  'webhook',
  'deletion_job',
  'audit_event',
  'org_support_seq',
];

/**
 * Not exported: the event log (transient: kept 3 days for catch-up; clients of an imported org
 * resync), idempotency keys and used nonces (minutes to a day), the mail outbox and webhook
 * deliveries (work in flight: importing them would send mail and deliveries again).
 */
export const NOT_EXPORTED = [
  'event',
  'idempotency_key',
  'used_nonce',
  'mail_outbox',
  'webhook_delivery',
  'kysely_migration',
  'kysely_migration_lock',
];

/** Unique keys of the known tables without an `id` (keyset pages); others page by offset. */
const KEYS: Record<string, string[]> = {
  membership: ['conversation_id', 'actor_id'],
  operator_department: ['actor_id', 'department_id'],
  sticky_message: ['conversation_id'],
  org_support_seq: ['org_id'],
};

const PAGE = 2000;

interface TableInfo {
  name: string;
  columns: string[];
}

/**
 * The columns that hold data: not the derived search index (PostgreSQL's generated tsvector
 * `message.search`, rebuilt from the text on import; it cannot be written).
 */
function storedColumns(columns: readonly { name: string; dataType: string }[]): string[] {
  return columns.filter((c) => c.dataType !== 'tsvector').map((c) => c.name);
}

/** The org's tables present in this database, in export order. */
async function orgTables(db: Kysely<any>): Promise<TableInfo[]> {
  // Tables only: views (such as `member`, derived from `membership`) hold no data of their own.
  const all = (await db.introspection.getTables()).filter((t) => !t.isView);
  const byName = new Map(all.map((t) => [t.name, { name: t.name, columns: storedColumns(t.columns) }]));
  const known = ORDER.flatMap((n) => byName.get(n) ?? []);
  const others = [...byName.values()]
    .filter((t) => !ORDER.includes(t.name) && !NOT_EXPORTED.includes(t.name) && t.columns.includes('org_id'))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [...known, ...others];
}

/** Every row of `table` that belongs to the org, page by page, in a stable order. */
async function* orgRows(
  db: Kysely<any>,
  table: TableInfo,
  orgId: string,
): AsyncGenerator<Record<string, unknown>> {
  const orgColumn = table.name === 'org' ? 'id' : 'org_id';
  const key = table.columns.includes('id') ? ['id'] : KEYS[table.name];
  let after: unknown[] | undefined;
  for (let offset = 0; ; offset += PAGE) {
    let q = db.selectFrom(table.name).select(table.columns).where(orgColumn, '=', orgId);
    if (key) {
      const [k1, k2] = key as [string, string?];
      const [v1, v2] = after ?? [];
      if (after)
        q = q.where((eb) =>
          k2 === undefined ? eb(k1, '>', v1) : eb(eb.refTuple(k1, k2), '>', eb.tuple(v1, v2)),
        );
      for (const k of key) q = q.orderBy(k);
      q = q.limit(PAGE);
    } else {
      for (const c of table.columns) q = q.orderBy(c);
      q = q.limit(PAGE).offset(offset);
    }
    const rows = (await q.execute()) as Record<string, unknown>[];
    yield* rows;
    if (rows.length < PAGE) return;
    if (key) after = key.map((k) => rows.at(-1)![k]);
  }
}

async function writeLine(out: Writable, value: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(value)}\n`)) await once(out, 'drain');
}

async function findOrg(db: Kysely<any>, ref: string): Promise<{ id: string; slug: string }> {
  let q = db.selectFrom('org').select(['id', 'slug']);
  q = /^[0-9]{1,19}$/.test(ref)
    ? q.where((eb) => eb.or([eb('slug', '=', ref), eb('id', '=', ref)]))
    : q.where('slug', '=', ref);
  const org = (await q.executeTakeFirst()) as { id: number | string; slug: string } | undefined;
  if (!org) throw new CliError(`no org ${ref} in this database: give its slug or id`);
  return { id: String(org.id), slug: org.slug };
}

/** The storage keys an attachment row names (its file and, for images, the preview). */
function attachmentKeys(row: Record<string, unknown>): { key: string; contentType: string }[] {
  const keys = [{ key: String(row.storage_key), contentType: String(row.content_type) }];
  if (typeof row.preview_key === 'string') keys.push({ key: row.preview_key, contentType: 'image/webp' });
  return keys;
}

/** The file's records: what it is (size, SHA-256), then its bytes in FILE_CHUNK pieces. */
async function writeFile(out: Writable, key: string, contentType: string, bytes: Uint8Array): Promise<void> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeLine(out, { type: 'file', key, size: bytes.byteLength, sha256, content_type: contentType });
  for (let at = 0; at < bytes.byteLength; at += FILE_CHUNK)
    await writeLine(out, {
      type: 'file_data',
      data: Buffer.from(
        bytes.buffer,
        bytes.byteOffset + at,
        Math.min(FILE_CHUNK, bytes.byteLength - at),
      ).toString('base64'),
    });
}

export async function exportCommand({ values, config }: Invocation): Promise<undefined> {
  const outPath = str(values, 'out');
  const partial = outPath ? `${outPath}.partial` : undefined;
  const out: Writable = partial ? createWriteStream(partial) : process.stdout;
  const counts: Record<string, number> = {};
  let files = 0;
  const missing: string[] = [];
  let org: { id: string; slug: string } | undefined;
  const blobs = createBlobStore(config.storageUrl, config.sqlitePath);
  try {
    await withStore(config, async (store) => {
      const db = store.db as Kysely<any>;
      // One read transaction: a consistent snapshot while the server keeps writing.
      let tx = db.transaction();
      // (SQLite's single writer makes any transaction one snapshot.)
      if (!store.caps.singleWriter) tx = tx.setIsolationLevel('repeatable read').setAccessMode('read only');
      await tx.execute(async (trx) => {
        org = await findOrg(trx, str(values, 'org')!);
        const tables = await orgTables(trx);
        await writeLine(out, {
          type: 'header',
          format: FORMAT,
          version: VERSION,
          dialect: store.caps.dialect,
          org,
          exported_at: new Date().toISOString(),
          tables: tables.map((t) => t.name),
        });
        const keys: { key: string; contentType: string }[] = [];
        for (const table of tables) {
          counts[table.name] = 0;
          for await (const row of orgRows(trx, table, org.id)) {
            await writeLine(out, { type: table.name, row });
            counts[table.name]! += 1;
            if (table.name === 'attachment') keys.push(...attachmentKeys(row));
          }
        }
        // The bytes, read while the snapshot is open: a file removed meanwhile (its message
        // deleted after the snapshot) is left out with a warning, and import warns again.
        for (const { key, contentType } of keys) {
          const bytes = await blobs.get(key);
          if (!bytes) {
            missing.push(key);
            continue;
          }
          await writeFile(out, key, contentType, bytes);
          files += 1;
        }
        await writeLine(out, { type: 'end', counts, files });
      });
    });
    if (partial) {
      out.end();
      await once(out, 'finish');
      renameSync(partial, outPath!);
    }
  } catch (err) {
    if (partial) {
      out.destroy();
      rmSync(partial, { force: true });
    }
    throw err;
  } finally {
    blobs.close();
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  for (const key of missing)
    process.stderr.write(`parley export: attachment file ${key} is not in storage: left out\n`);
  process.stderr.write(
    `Exported org ${org!.slug} (id ${org!.id}): ${total} records and ${files} files${outPath ? ` to ${outPath}` : ''}.\n`,
  );
  return undefined;
}

interface Header {
  type: 'header';
  format: string;
  version: number;
  org: { id: string; slug: string };
}

export async function importCommand({ values, config }: Invocation): Promise<undefined> {
  const file = str(values, 'file')!;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  const records = lines[Symbol.asyncIterator]();
  const parse = (line: string, n: number) => {
    try {
      return JSON.parse(line) as {
        type: string;
        row?: Record<string, unknown>;
        counts?: Record<string, number>;
        files?: number;
        key?: unknown;
        size?: unknown;
        sha256?: unknown;
        content_type?: unknown;
        data?: unknown;
      };
    } catch {
      throw new CliError(`${file}:${n}: not JSON: is this a parley export?`, 2);
    }
  };
  const first = await records.next();
  const header = (first.done ? undefined : parse(first.value, 1)) as Header | undefined;
  if (header?.type !== 'header' || header.format !== FORMAT)
    throw new CliError(`${file} is not a parley export (no header line): make one with parley export`, 2);
  if (!READS.includes(header.version))
    throw new CliError(
      `${file} is export format version ${header.version}; this Parley reads versions ${READS.join(' and ')}`,
      2,
    );
  const orgId = String(header.org.id);
  const slug = str(values, 'org-slug') ?? header.org.slug;
  const counts: Record<string, number> = {};
  const warnings = new Set<string>();
  let files = 0;
  const blobs: BlobStore = createBlobStore(config.storageUrl, config.sqlitePath);

  await withStore(
    config,
    async (store) => {
      const db = store.db as Kysely<any>;
      const here = new Map(
        (await db.introspection.getTables()).map((t) => [t.name, new Set(storedColumns(t.columns))]),
      );
      const taken = await db
        .selectFrom('org')
        .select(['id', 'slug'])
        .where((eb) => eb.or([eb('slug', '=', slug), eb('id', '=', header.org.id)]))
        .executeTakeFirst();
      if (taken?.slug === slug)
        throw new CliError(
          `an org with slug ${slug} exists in this database: pass --org-slug NEW to import it under another slug`,
        );
      if (taken)
        throw new CliError(
          `org id ${header.org.id} is already in this database (as ${taken.slug}): import keeps ids, so import into a database that does not hold this org`,
        );
      let table = '';
      let batch: Record<string, unknown>[] = [];
      const flush = async (trx: Kysely<any>) => {
        if (batch.length > 0) await trx.insertInto(table).values(batch).execute();
        batch = [];
      };
      // Files: only keys that an imported attachment row names, each once, checked (size,
      // SHA-256) before it is stored; everything stored is removed again when the import fails.
      const named = new Map<string, boolean>();
      const stored: string[] = [];
      let pending: { key: string; size: number; sha256: string; contentType: string; at: number } | undefined;
      let chunks: Buffer[] = [];
      let received = 0;
      const finishFile = async () => {
        if (!pending) return;
        const f = pending;
        pending = undefined;
        const bytes = Buffer.concat(chunks);
        chunks = [];
        received = 0;
        if (bytes.byteLength !== f.size)
          throw new CliError(
            `${file}:${f.at}: file ${f.key} has ${bytes.byteLength} bytes, its record says ${f.size}: the export is damaged`,
          );
        if (createHash('sha256').update(bytes).digest('hex') !== f.sha256)
          throw new CliError(
            `${file}:${f.at}: file ${f.key} does not match its SHA-256: the export is damaged`,
          );
        if ((await blobs.get(f.key)) !== undefined)
          throw new CliError(
            `${file}:${f.at}: file ${f.key} is already in this storage: import keeps ids, so import into storage that does not hold this org`,
          );
        stored.push(f.key);
        await blobs.put(f.key, bytes, f.contentType);
        named.set(f.key, true);
      };
      const startFile = (rec: ReturnType<typeof parse>, n: number) => {
        const key = rec.key;
        if (typeof key !== 'string' || !BLOB_KEY.test(key) || !key.startsWith(`${orgId}/`))
          throw new CliError(
            `${file}:${n}: file key ${JSON.stringify(key)} is not a storage key of org ${orgId}: the export is damaged`,
          );
        if (!named.has(key))
          throw new CliError(
            `${file}:${n}: file ${key} belongs to no attachment of the export: the export is damaged`,
          );
        if (named.get(key))
          throw new CliError(`${file}:${n}: file ${key} comes twice: the export is damaged`);
        if (
          typeof rec.size !== 'number' ||
          !Number.isSafeInteger(rec.size) ||
          rec.size < 0 ||
          typeof rec.sha256 !== 'string' ||
          !/^[0-9a-f]{64}$/.test(rec.sha256) ||
          typeof rec.content_type !== 'string'
        )
          throw new CliError(`${file}:${n}: file ${key} needs a size, a sha256 and a content_type`);
        pending = { key, size: rec.size, sha256: rec.sha256, contentType: rec.content_type, at: n };
      };
      let ended = false;
      try {
        await db.transaction().execute(async (trx) => {
          let n = 1;
          for await (const line of { [Symbol.asyncIterator]: () => records }) {
            n += 1;
            if (line.trim() === '') continue;
            let rec: ReturnType<typeof parse>;
            try {
              rec = parse(line, n);
            } catch (err) {
              // The last line cut in the middle (a copy or a download that stopped): truncated.
              if ((await records.next()).done)
                throw new CliError(`${file}:${n}: the last line is cut short: the export is truncated`, 1);
              throw err;
            }
            if (ended) throw new CliError(`${file}:${n}: data after the end record`, 2);
            if (rec.type === 'file_data') {
              if (!pending || typeof rec.data !== 'string')
                throw new CliError(`${file}:${n}: file data without its file record: the export is damaged`);
              const chunk = Buffer.from(rec.data, 'base64');
              received += chunk.byteLength;
              if (received > pending.size)
                throw new CliError(
                  `${file}:${n}: file ${pending.key} has more bytes than its record says (${pending.size}): the export is damaged`,
                );
              chunks.push(chunk);
              continue;
            }
            await finishFile();
            if (rec.type === 'file') {
              await flush(trx);
              startFile(rec, n);
              continue;
            }
            if (rec.type === 'end') {
              await flush(trx);
              for (const [t, c] of Object.entries(rec.counts ?? {}))
                if (here.has(t) && (counts[t] ?? 0) !== c)
                  throw new CliError(
                    `${file}: ${t} has ${counts[t] ?? 0} rows, the end record says ${c}: the file is damaged`,
                  );
              if ((rec.files ?? 0) !== stored.length)
                throw new CliError(
                  `${file}: ${stored.length} files, the end record says ${rec.files}: the file is damaged`,
                );
              ended = true;
              continue;
            }
            const columns = here.get(rec.type);
            if (!columns || !rec.row) {
              warnings.add(`table ${rec.type} is not in this database: its rows are skipped`);
              continue;
            }
            if (rec.type !== table || batch.length >= Math.floor(20_000 / columns.size)) {
              await flush(trx);
              table = rec.type;
            }
            const row: Record<string, unknown> = {};
            for (const [k, v] of Object.entries(rec.row)) {
              if (columns.has(k)) row[k] = v;
              else warnings.add(`column ${rec.type}.${k} is not in this database: its values are dropped`);
            }
            if (rec.type === 'org') row.slug = slug;
            if (rec.type === 'attachment')
              for (const { key } of attachmentKeys(rec.row)) {
                if (!BLOB_KEY.test(key) || !key.startsWith(`${orgId}/`))
                  throw new CliError(
                    `${file}:${n}: attachment ${String(rec.row.id)} names storage key ${JSON.stringify(key)}, not one of org ${orgId}: the export is damaged`,
                  );
                named.set(key, false);
              }
            batch.push(row);
            counts[rec.type] = (counts[rec.type] ?? 0) + 1;
          }
          if (!ended) throw new CliError(`${file} ends before its end record: the export is truncated`, 1);
          // SQLite: the imported messages go into the search index with this commit.
          await indexPendingMessages(trx as unknown as Parameters<typeof indexPendingMessages>[0]);
        });
      } catch (err) {
        for (const key of stored) await blobs.delete(key).catch(() => undefined);
        if (isUniqueViolation(err))
          throw new CliError(
            `a ${table} row collides with one already in this database (${(err as Error).message}): import keeps ids, so import into a database that does not hold this data`,
          );
        throw err;
      }
      files = stored.length;
      if (header.version >= 2)
        for (const [key, got] of named)
          if (!got) warnings.add(`attachment file ${key} is not in the export: downloading it answers 404`);
    },
    { migrate: true },
  ).finally(() => blobs.close());
  for (const w of warnings) process.stderr.write(`parley import: ${w}\n`);
  const result = { org: { id: header.org.id, slug }, counts, files };
  if (values.json) printJson(result);
  else
    process.stdout.write(
      `Imported org ${slug} (id ${header.org.id}): ${Object.values(counts).reduce((a, b) => a + b, 0)} records and ${files} files. Clients resync (the event log is not exported).\n`,
    );
  return undefined;
}
