import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createStore, type Store } from '../../src/store/db.ts';

/**
 * The database under test: the one place tests make and drop databases. `npm test` runs the
 * suites once on SQLite (a fresh file per test file), then the API and security suites again on
 * PostgreSQL (a fresh database per test file) with TEST_DB=postgres and TEST_DATABASE_URL
 * pointing at a server (scripts/test.ts). Schema comes from the real migrations in buildApp.
 */
export type TestDialect = 'sqlite' | 'postgres';
export const testDialect: TestDialect = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh, empty database: a SQLite file in a temp folder, or a new PostgreSQL database. */
export interface TestDatabase {
  dialect: TestDialect;
  /** The PostgreSQL URL (PostgreSQL only). */
  url?: string;
  /** The SQLite file (SQLite only). */
  sqlitePath?: string;
  /** What a `parley` process is configured with to use this database. */
  env: { DATABASE_URL: string; SQLITE_PATH: string };
  /** A store on it (the caller closes it). */
  open(poolSize?: number): Store;
  /** Drops the database (or removes the folder); close its stores first. */
  drop(): Promise<void>;
}

/**
 * Makes a fresh database of `dialect` (the one under test by default). PostgreSQL databases are
 * made on the server of `serverUrl` (TEST_DATABASE_URL by default) and dropped WITH (FORCE).
 */
export async function createTestDatabase(
  opts: { dialect?: TestDialect; serverUrl?: string } = {},
): Promise<TestDatabase> {
  const dialect = opts.dialect ?? testDialect;
  if (dialect === 'postgres') {
    const serverUrl = opts.serverUrl ?? process.env.TEST_DATABASE_URL;
    if (!serverUrl) throw new Error('a PostgreSQL test database needs TEST_DATABASE_URL');
    const name = `parley_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = async (query: string) => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(query);
      } finally {
        await c.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    const url = u.toString();
    return {
      dialect,
      url,
      env: { DATABASE_URL: url, SQLITE_PATH: '' },
      open: (poolSize = 10) => createStore({ databaseUrl: url, sqlitePath: '', poolSize }),
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const sqlitePath = join(dir, 'test.db');
  return {
    dialect,
    sqlitePath,
    env: { DATABASE_URL: '', SQLITE_PATH: sqlitePath },
    open: () => createStore({ sqlitePath }),
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestStore {
  store: Store;
  drop(): Promise<void>;
}

/** A store on a fresh database of the dialect under test; drop() closes it and drops the database. */
export async function createTestStore(): Promise<TestStore> {
  const database = await createTestDatabase();
  const store = database.open();
  return {
    store,
    async drop() {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * For a test that can run on one database only: the reason it is skipped in this pass (to give
 * node:test's `skip`), or false when `dialect` is the one under test.
 */
export function onlyOn(dialect: TestDialect, why: string): string | false {
  if (dialect === testDialect) return false;
  const pass = dialect === 'postgres' ? 'the PostgreSQL pass (TEST_DB=postgres)' : 'the SQLite pass';
  return `${dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} only, runs in ${pass}: ${why}`;
}
