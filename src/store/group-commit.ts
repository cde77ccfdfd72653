import { type FileHandle, open } from 'node:fs/promises';
import { CompiledQuery, type Kysely } from 'kysely';
import type { SqliteConnection } from './db.ts';
import { runDirectOn } from './prepared.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

interface Item {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** At most this many write transactions share one commit. */
  maxBatch?: number;
  /**
   * The database's WAL file. When given, the commit's fsync runs on libuv's thread pool
   * instead of blocking the event loop (see the class comment); without it SQLite syncs in
   * COMMIT (synchronous=FULL).
   */
  walPath?: string | undefined;
  /**
   * The connection under `db` (Store.sqlite). When given, prepared queries of a batch call its
   * statements directly (prepared.ts, runDirectOn): the batch holds the connection anyway.
   */
  sqlite?: SqliteConnection | undefined;
  /**
   * Called after each batch is committed (and flushed) with its size and how long the commit
   * and flush took, in milliseconds: the process's metrics listen here (the store imports none).
   */
  onBatch?: ((size: number, flushMs: number) => void) | undefined;
  /**
   * Runs in the batch's transaction after its last write transaction and before COMMIT (the
   * search index's once-per-commit write, repos/search.ts indexPendingMessages). A failure
   * fails the whole batch, like a failed COMMIT.
   */
  beforeCommit?: ((conn: Db) => Promise<void>) | undefined;
}

const raw = (text: string) => CompiledQuery.raw(text, []);
const BEGIN = raw('begin');
const COMMIT = raw('commit');
const ROLLBACK = raw('rollback');
const SAVEPOINT = raw('savepoint gc');
const RELEASE = raw('release gc');
const ROLLBACK_TO = raw('rollback to gc');
const SYNC_OFF = raw('pragma synchronous = NORMAL');
const SYNC_FULL = raw('pragma synchronous = FULL');

/**
 * Group commit for the embedded database: the write transactions that arrive in one tick of
 * the event loop run together in ONE SQLite transaction (each inside its own savepoint when
 * there are several, so one failing rolls back only itself), and are committed with one
 * flush. Every caller is answered only after that flush, so an acknowledged write is durable,
 * while the disk sees one flush per tick instead of one per request.
 *
 * The flush is off the event loop: SQLite's synchronous=FULL would fsync the WAL inside
 * COMMIT, blocking every socket for the length of a disk flush. Instead the batch commits with
 * synchronous=NORMAL (the frames are written to the WAL, not yet flushed), the setting goes
 * back to FULL for every other writer, and the WAL file is fdatasync'ed on libuv's thread
 * pool; only when that returns are the callers answered. fdatasync flushes the whole file, so
 * the guarantee is FULL's: no write is acknowledged before it is on disk. The next batch is
 * committed after the flush (not during it: a commit rewrites the hot pages whatever the
 * number of writes in it, so under load fewer, larger commits cost less CPU). A reader may
 * see a committed write during its flush (a GET in that window); its writer is not answered
 * yet and its events are published only after the flush. SQLite keeps syncing checkpoints
 * itself in NORMAL mode, and never unlinks the WAL while this connection is open.
 *
 * `fn` receives the transaction's connection; events recorded in it are published by the
 * caller (inTransaction) once its promise resolves.
 */
export class GroupCommitter {
  readonly #db: Db;
  readonly #maxBatch: number;
  readonly #walPath: string | undefined;
  readonly #sqlite: SqliteConnection | undefined;
  readonly #onBatch: ((size: number, flushMs: number) => void) | undefined;
  readonly #beforeCommit: ((conn: Db) => Promise<void>) | undefined;
  #wal: Promise<FileHandle | null> | null = null;
  #queue: Item[] = [];
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  constructor(db: Db, opts: GroupCommitOptions = {}) {
    this.#db = db;
    this.#maxBatch = opts.maxBatch ?? 256;
    this.#walPath = opts.walPath;
    this.#sqlite = opts.sqlite;
    this.#onBatch = opts.onBatch;
    this.#beforeCommit = opts.beforeCommit;
  }

  run<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#running = this.#running.then(() => this.#flush());
        });
      }
    });
  }

  /** Closes the WAL handle (after the last batch); the database itself is closed by the store. */
  async close(): Promise<void> {
    await this.#running;
    const wal = await this.#wal;
    this.#wal = null;
    await wal?.close();
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const started = performance.now();
      await this.#commit(batch);
      this.#onBatch?.(batch.length, performance.now() - started);
    }
  }

  /** The WAL file, opened once; null when it cannot be (then SQLite syncs in COMMIT). */
  #walHandle(): Promise<FileHandle | null> {
    if (!this.#walPath) return Promise.resolve(null);
    this.#wal ??= open(this.#walPath, 'r').catch(() => {
      this.#wal = null; // try again next batch (the WAL file appears with the first write)
      return null;
    });
    return this.#wal;
  }

  async #commit(batch: Item[]): Promise<void> {
    const wal = await this.#walHandle();
    const done: { item: Item; value: unknown }[] = [];
    let failed: unknown = null;
    // One connection for the whole batch: nothing else runs between the pragma, BEGIN and COMMIT.
    const sqlite = this.#sqlite;
    const beforeCommit = this.#beforeCommit;
    await this.#db
      .connection()
      .execute((conn) => (sqlite ? runDirectOn(conn, sqlite, () => body(conn)) : body(conn)))
      .catch((err: unknown) => {
        // BEGIN (or the connection) failed, or a rollback did: nothing of the batch is answered yet.
        failed ??= err;
      });
    async function body(conn: Db): Promise<void> {
      if (wal) await conn.executeQuery(SYNC_OFF);
      try {
        await conn.executeQuery(BEGIN);
        if (batch.length === 1) {
          // Alone in the batch: a failure rolls back the whole (one-item) transaction.
          const item = batch[0]!;
          try {
            done.push({ item, value: await item.fn(conn) });
          } catch (err) {
            await conn.executeQuery(ROLLBACK);
            item.reject(err);
            return;
          }
        } else {
          for (const item of batch) {
            await conn.executeQuery(SAVEPOINT);
            try {
              const value = await item.fn(conn);
              await conn.executeQuery(RELEASE);
              done.push({ item, value });
            } catch (err) {
              await conn.executeQuery(ROLLBACK_TO);
              await conn.executeQuery(RELEASE);
              item.reject(err);
            }
          }
        }
        try {
          if (beforeCommit && done.length > 0) await beforeCommit(conn);
          await conn.executeQuery(COMMIT);
        } catch (err) {
          await conn.executeQuery(ROLLBACK).catch(() => undefined);
          failed = err;
        }
      } finally {
        if (wal) await conn.executeQuery(SYNC_FULL);
      }
    }
    if (failed !== null) {
      // Nothing of the batch was committed (an item that already failed keeps its own error).
      for (const item of batch) item.reject(failed);
      return;
    }
    if (done.length === 0) return;
    if (!wal) {
      for (const d of done) d.item.resolve(d.value);
      return;
    }
    // Answer after the flush. The next batch waits for it too: meanwhile the event loop serves
    // sockets and the queue grows, so the next commit carries more writes (a commit rewrites
    // the hot pages, such as the org's event counter, whatever the number of writes in it).
    try {
      await wal.datasync();
    } catch (err) {
      for (const d of done) d.item.reject(err);
      return;
    }
    for (const d of done) d.item.resolve(d.value);
  }
}
