import { accessSync, constants, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { systemClock } from '../domain/clock.ts';
import { createIdGenerator } from '../domain/ids.ts';
import { createMemoryBus } from '../realtime/bus.ts';
import { RateLimits } from '../services/rate-limits.ts';
import { PrincipalCache } from '../services/tokens.ts';
import { webhookSink } from '../services/webhooks.ts';
import { createStore, type Store } from '../store/db.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { CliError } from './spec.ts';

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

/**
 * The services' context for an admin command: the store (migrated) and in-process parts only,
 * no HTTP app, no Redis, no job runner. Events the command records go to the event log as
 * always (clients of a running server get them on catch-up); a token it revokes stops working
 * on running servers when their principal cache entry expires (a few seconds).
 */
export async function withContext<T>(
  config: Readonly<Config>,
  fn: (ctx: AppContext) => Promise<T>,
): Promise<T> {
  return withStore(
    config,
    async (store) => {
      const ctx: AppContext = {
        db: store.db,
        caps: store.caps,
        clock: systemClock,
        ids: createIdGenerator(config.nodeId),
        config,
        rateLimits: new RateLimits(),
        bus: createMemoryBus(),
        eventSinks: [webhookSink],
        principals: new PrincipalCache(),
        groupCommit: null,
      };
      return fn(ctx);
    },
    { migrate: true },
  );
}
