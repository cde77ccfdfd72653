import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/** What the database can do; services ask these instead of checking the dialect's name. */
export interface Capabilities {
  dialect: 'sqlite' | 'postgres';
  /** `SELECT ... FOR UPDATE SKIP LOCKED` for claiming work across nodes. */
  skipLocked: boolean;
  /** Session advisory locks for periodic work that must run on one node. */
  advisoryLocks: boolean;
  /**
   * How event positions are handed out (repos/events.ts): `dense` when one writer numbers
   * them one after another (the next one after N is N+1 unless a write from another process
   * came between), `snapshot` when they are settled by the database's snapshot horizon.
   */
  eventPositions: 'dense' | 'snapshot';
  /**
   * One write transaction at a time (SQLite): the group commit batches them, and a count made
   * in a transaction already sees every write before it, so quota checks need no row lock.
   * PostgreSQL runs writers in parallel and serialises what must be with row locks.
   */
  singleWriter: boolean;
  /**
   * How the database files lose what a delete freed (docs/security.md#erasure): `checkpoint`
   * (SQLite: secure_delete zeroes cells in place, and a WAL checkpoint rewrites the pages the
   * log still holds), `vacuum` (PostgreSQL: dead tuples go at a VACUUM).
   */
  freedSpace: 'checkpoint' | 'vacuum';
  /**
   * A plain send can be one statement in autocommit (repos/messages.ts
   * storePlainSendInOneStatement): where each transaction pays its round trips and its own
   * commit (PostgreSQL). Not SQLite: its group commit already shares one commit among the
   * sends of a tick, and statements there cost no round trip.
   */
  oneStatementSend: boolean;
}

export interface Store {
  db: Kysely<Database>;
  caps: Capabilities;
  /** The embedded database's connection, as Kysely's driver sees it (SQLite only). */
  sqlite?: SqliteConnection | undefined;
  /** The embedded database's WAL file (a file database only); group commit flushes it itself. */
  walPath?: string | undefined;
  /** The PostgreSQL pool's connections now: open, idle, and requests waiting for one (PostgreSQL only). */
  poolStats?: (() => { total: number; idle: number; waiting: number }) | undefined;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** A postgres:// URL; when absent the embedded SQLite file at `sqlitePath` is used. */
  databaseUrl?: string | undefined;
  sqlitePath: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

/** Integers come back as numbers when they are safe and as decimal strings when not (ids). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
function fromBigInt(v: bigint): number | string {
  return v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v.toString();
}

function convertRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = fromBigInt(v);
  }
  return row;
}

function convertParams(params: ReadonlyArray<unknown>): any[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p === undefined ? null : p));
}

/** The embedded database's one connection, as Kysely's SqliteDialect uses it. */
export type SqliteConnection = ReturnType<typeof wrapSqlite>;

/**
 * Adapts `node:sqlite` to the better-sqlite3 shape Kysely's SqliteDialect expects, with a
 * statement cache so every query text is prepared once (Kysely has no node:sqlite driver).
 */
function wrapSqlite(database: DatabaseSync) {
  const cache = new Map<string, { stmt: StatementSync; reader: boolean }>();
  const prepare = (sql: string) => {
    let entry = cache.get(sql);
    if (!entry) {
      const stmt = database.prepare(sql);
      entry = { stmt, reader: stmt.columns().length > 0 };
      if (cache.size > 1000) cache.clear();
      cache.set(sql, entry);
    }
    return entry;
  };
  return {
    close: () => database.close(),
    prepare(sql: string) {
      const { stmt, reader } = prepare(sql);
      return {
        reader,
        all: (params: ReadonlyArray<unknown>) =>
          (stmt.all(...convertParams(params)) as Record<string, unknown>[]).map(convertRow),
        run: (params: ReadonlyArray<unknown>) => {
          const r = stmt.run(...convertParams(params));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        *iterate(params: ReadonlyArray<unknown>) {
          for (const row of stmt.iterate(...convertParams(params)))
            yield convertRow(row as Record<string, unknown>);
        },
      };
    },
  };
}

export function openSqlite(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new DatabaseSync(path, { readBigInts: true, enableForeignKeyConstraints: true });
  database.exec('PRAGMA journal_mode = WAL');
  // FULL: every acknowledged write survives power loss, not only a process crash. Group commit
  // (group-commit.ts) keeps that guarantee but does its WAL flush off the event loop.
  database.exec('PRAGMA synchronous = FULL');
  database.exec('PRAGMA busy_timeout = 5000');
  // Deleted rows are overwritten with zeros, not left in free space (docs/security.md#erasure).
  database.exec('PRAGMA secure_delete = ON');
  return database;
}

export function createStore(opts: StoreOptions): Store {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: string) => {
          // int8 (ids, times, counts): a number when safe, a decimal string otherwise.
          if (oid === 20) return (v: string) => fromBigInt(BigInt(v));
          return pg.types.getTypeParser(oid, format as 'text');
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client's error (a database restart, a dropped connection) must not crash the
    // process: the pool discards that client and the next query opens a new one.
    pool.on('error', (err) => process.emitWarning(`PostgreSQL pool: ${err.message}`));
    // A checked-out client has no pool listener: without its own, the server dying mid-query
    // or mid-transaction is an unhandled 'error' event that kills the process. The query in
    // flight still fails (503 database_unavailable) and the pool drops the client on release.
    pool.on('connect', (client) => {
      client.on('error', (err) => process.emitWarning(`PostgreSQL connection: ${err.message}`));
      prepareOnConnection(client);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      caps: {
        dialect: 'postgres',
        skipLocked: true,
        advisoryLocks: true,
        eventPositions: 'snapshot',
        singleWriter: false,
        freedSpace: 'vacuum',
        oneStatementSend: true,
      },
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  const database = openSqlite(opts.sqlitePath);
  const sqlite = wrapSqlite(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    sqlite,
    caps: {
      dialect: 'sqlite',
      skipLocked: false,
      advisoryLocks: false,
      eventPositions: 'dense',
      singleWriter: true,
      freedSpace: 'checkpoint',
      oneStatementSend: false,
    },
    walPath: opts.sqlitePath === ':memory:' || opts.sqlitePath === '' ? undefined : `${opts.sqlitePath}-wal`,
    close: () => db.destroy(),
  };
}

/**
 * Statements PostgreSQL keeps prepared, by text: a name per distinct statement with parameters
 * (the first MAX_NAMED_STATEMENTS seen by this process).
 */
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 2_000;

/**
 * Sends each statement with parameters as a *named* prepared statement: PostgreSQL parses and
 * plans it once per connection (and keeps a generic plan after a few runs) instead of on every
 * call, which is most of its CPU for the short statements of a send. node-postgres keeps the
 * statements it prepared per connection and skips the parse step for a name it has. Kysely
 * sends `client.query(text, values)`; that call is what is wrapped here. Statements without
 * parameters (BEGIN, COMMIT, DDL) go as they are.
 *
 * The wrapper also makes the promise itself and hands node-postgres a callback. With
 * node-postgres's own promise (`client.query` without a callback, as Kysely calls it) each
 * query's objects outlived the young-generation collection: about 9 MB survived every
 * scavenge in a loop of list queries against 40 KB with a callback, so each scavenge copied and
 * promoted them and paused the event loop for 10-20 ms, which set the list's p99 (diagnosis:
 * `node --trace-gc-nvp bench/diag-gc.ts <url> <org> <actor> pgclient|pgclientcb`; figures in
 * docs/performance.md, *The list's tail on PostgreSQL*).
 */
function prepareOnConnection(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    let config = text;
    let params = values;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      let name = statementNames.get(text);
      if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
        name = `parley_${statementNames.size}`;
        statementNames.set(text, name);
      }
      if (name !== undefined) {
        config = { name, text, values };
        params = undefined;
      }
    }
    // A callback given, or a query object that submits itself (a cursor): node-postgres's own way.
    if (
      typeof callback === 'function' ||
      typeof params === 'function' ||
      (typeof config === 'object' &&
        config !== null &&
        typeof (config as { submit?: unknown }).submit === 'function')
    )
      return query(config, params, callback);
    return new Promise((resolve, reject) => {
      query(config, params, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)));
    });
  };
}
