import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../store/errors.ts';
import { CliError, type Invocation, printJson, str } from './spec.ts';
import { withStore } from './store.ts';

/**
 * `parley export` / `parley import`: one org's data as JSON lines. The tables and their
 * columns are read from the database itself (so the format follows the migrations), the
 * known ones in dependency order and any other table with an `org_id` column after them.
 *
 *   {"type":"header","format":"parley-export","version":1,"dialect":...,"org":{"id","slug"},"tables":[...]}
 *   {"type":"<table>","row":{<column>: <value>, ...}}      one line per row, tables in order
 *   {"type":"end","counts":{"<table>": n, ...}}            absent = the file is truncated
 *
 * Values are as stored: ids are numbers when they fit a double and decimal strings when they
 * do not, times epoch milliseconds, JSON columns text, token secrets only as their hashes.
 */
export const FORMAT = 'parley-export';
export const VERSION = 1;

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

export async function exportCommand({ values, config }: Invocation): Promise<undefined> {
  const outPath = str(values, 'out');
  const partial = outPath ? `${outPath}.partial` : undefined;
  const out: Writable = partial ? createWriteStream(partial) : process.stdout;
  const counts: Record<string, number> = {};
  let org: { id: string; slug: string } | undefined;
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
        for (const table of tables) {
          counts[table.name] = 0;
          for await (const row of orgRows(trx, table, org.id)) {
            await writeLine(out, { type: table.name, row });
            counts[table.name]! += 1;
          }
        }
        await writeLine(out, { type: 'end', counts });
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
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  process.stderr.write(
    `Exported org ${org!.slug} (id ${org!.id}): ${total} records${outPath ? ` to ${outPath}` : ''}.\n`,
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
      };
    } catch {
      throw new CliError(`${file}:${n}: not JSON: is this a parley export?`, 2);
    }
  };
  const first = await records.next();
  const header = (first.done ? undefined : parse(first.value, 1)) as Header | undefined;
  if (header?.type !== 'header' || header.format !== FORMAT)
    throw new CliError(`${file} is not a parley export (no header line): make one with parley export`, 2);
  if (header.version !== VERSION)
    throw new CliError(
      `${file} is export format version ${header.version}; this Parley reads version ${VERSION}`,
      2,
    );
  const slug = str(values, 'org-slug') ?? header.org.slug;
  const counts: Record<string, number> = {};
  const warnings = new Set<string>();

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
      let ended = false;
      try {
        await db.transaction().execute(async (trx) => {
          let n = 1;
          for await (const line of { [Symbol.asyncIterator]: () => records }) {
            n += 1;
            if (line.trim() === '') continue;
            const rec = parse(line, n);
            if (ended) throw new CliError(`${file}:${n}: data after the end record`, 2);
            if (rec.type === 'end') {
              await flush(trx);
              for (const [t, c] of Object.entries(rec.counts ?? {}))
                if (here.has(t) && (counts[t] ?? 0) !== c)
                  throw new CliError(
                    `${file}: ${t} has ${counts[t] ?? 0} rows, the end record says ${c}: the file is damaged`,
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
            batch.push(row);
            counts[rec.type] = (counts[rec.type] ?? 0) + 1;
          }
          if (!ended) throw new CliError(`${file} ends before its end record: the export is truncated`, 1);
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new CliError(
            `a ${table} row collides with one already in this database (${(err as Error).message}): import keeps ids, so import into a database that does not hold this data`,
          );
        throw err;
      }
    },
    { migrate: true },
  );
  for (const w of warnings) process.stderr.write(`parley import: ${w}\n`);
  const result = { org: { id: header.org.id, slug }, counts };
  if (values.json) printJson(result);
  else
    process.stdout.write(
      `Imported org ${slug} (id ${header.org.id}): ${Object.values(counts).reduce((a, b) => a + b, 0)} records. Clients resync (the event log is not exported).\n`,
    );
  return undefined;
}
