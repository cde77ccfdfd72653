import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

interface Item {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the embedded database: the write transactions that arrive in one tick of
 * the event loop run together in ONE SQLite transaction (each inside its own savepoint, so one
 * failing rolls back only itself), and are committed with one fsync. Every caller is answered
 * only after that commit, so an acknowledged write is durable (synchronous=FULL), while the
 * disk sees one flush per tick instead of one per request.
 *
 * `onCommitted(tx)` runs for each successful item after the commit (events recorded in it are
 * published then); `tx` is the savepoint object the item's function received.
 */
export class GroupCommitter {
  readonly #db: Db;
  readonly #maxBatch: number;
  #queue: Item[] = [];
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  constructor(db: Db, maxBatch = 256) {
    this.#db = db;
    this.#maxBatch = maxBatch;
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

  async #flush(): Promise<void> {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      await this.#commit(batch);
    }
  }

  async #commit(batch: Item[]): Promise<void> {
    let trx: Awaited<ReturnType<ReturnType<Db['startTransaction']>['execute']>>;
    try {
      trx = await this.#db.startTransaction().execute();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    const done: { item: Item; value: unknown }[] = [];
    for (const item of batch) {
      // The savepoint name never leaves this function; the type of the chain is not needed.
      const sp = await (trx as any).savepoint('gc').execute();
      try {
        const value = await item.fn(sp as Db);
        await sp.releaseSavepoint('gc').execute();
        done.push({ item, value });
      } catch (err) {
        await sp.rollbackToSavepoint('gc').execute();
        await sp.releaseSavepoint('gc').execute();
        item.reject(err);
      }
    }
    try {
      await trx.commit().execute();
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      for (const d of done) d.item.reject(err);
      return;
    }
    for (const d of done) d.item.resolve(d.value);
  }
}
