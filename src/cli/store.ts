import { accessSync, constants, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { createStore, type Store } from '../store/db.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { CliError } from './spec.ts';

/** The database for CLI commands, without the services (migrate, backup, export, import). */

/** Kernel filesystems: a database there cannot work (a file under /proc hangs SQLite). */
const KERNEL_FS = /^\/(proc|sys)(\/|$)/;

/**
 * Checks SQLITE_PATH before SQLite opens it, so the failures are quick and named: a path on a
 * kernel filesystem is refused, the directory is created, and it must be writable (EACCES).
 */
export function prepareDataPath(sqlitePath: string): void {
  if (sqlitePath === '' || sqlitePath === ':memory:') return;
  const abs = resolve(sqlitePath);
  let existing = abs;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = join(realpathSync(existing), relative(existing, abs));
  if (KERNEL_FS.test(real)) {
    throw new CliError(
      `SQLITE_PATH=${sqlitePath} is on ${real.split('/')[1] === 'proc' ? '/proc' : '/sys'}, a kernel filesystem where no database can live: set SQLITE_PATH to a file on a disk (default ./data/parley.db)`,
      2,
    );
  }
  mkdirSync(dirname(abs), { recursive: true });
  accessSync(dirname(abs), constants.W_OK | constants.R_OK | constants.X_OK);
  if (existsSync(abs)) accessSync(abs, constants.W_OK | constants.R_OK);
}

/** Opens the configured database (checking SQLite's path first); admin commands use a small pool. */
export function openStore(config: Readonly<Config>, poolSize = 2): Store {
  if (!config.databaseUrl) prepareDataPath(config.sqlitePath);
  return createStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, poolSize });
}

/** Runs `fn` on the open store and closes it, whatever happens. */
export async function withStore<T>(
  config: Readonly<Config>,
  fn: (store: Store) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const store = openStore(config);
  try {
    if (opts.migrate) await migrateToLatest(store.db);
    return await fn(store);
  } finally {
    await store.close();
  }
}
