import type { Message } from '../domain/model.ts';
import { isUniqueViolation } from './errors.ts';
import {
  type OneStatementEvent,
  type PlainSend,
  storePlainSendInOneStatement,
  storePlainSendsInOneStatement,
} from './repos/messages.ts';
import type { Db } from './schema.ts';

export interface SendBatcherOptions {
  /** At most this many batch statements run at once (each holds a pooled connection). */
  maxInFlight: number;
  /** At most this many sends in one statement. */
  maxBatch: number;
  /** Called after each batch statement with its size (the process's metrics listen here). */
  onBatch?: ((size: number) => void) | undefined;
}

/** What a plain send got: its ordinal and position, or null (refused: the general path answers). */
export type PlainSendResult = { ordinal: number; seq: number } | null;

interface Item {
  send: PlainSend;
  resolve: (r: PlainSendResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for plain sends on PostgreSQL. The plain sends that arrive while the batch
 * statements in flight are busy (or in one turn of the event loop when none is) go to the
 * database together, as ONE statement in autocommit (repos/messages.ts,
 * storePlainSendsInOneStatement): one round trip, one commit and one WAL flush for the batch
 * instead of one each. A send alone goes at the end of its turn, so a quiet server adds no
 * wait; under load, batches grow with the load (up to `maxBatch`), which is what keeps the
 * database's and the node's cost per send falling as the rate rises (docs/performance.md).
 *
 * Every caller is answered after the commit of its batch, with what the one-send statement
 * would have answered. When a batch statement fails as a whole (a client id taken by a
 * concurrent send, or used twice in the batch, is a unique violation), nothing of it was
 * written and each of its sends is tried alone, so one bad send never fails another.
 */
export class SendBatcher {
  readonly #db: Db;
  readonly #opts: SendBatcherOptions;
  #queue: Item[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(db: Db, opts: SendBatcherOptions) {
    this.#db = db;
    this.#opts = opts;
  }

  /** Stores one plain send with the others of its batch; see storePlainSendInOneStatement. */
  submit(message: Message, event: OneStatementEvent): Promise<PlainSendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ send: { message, event }, resolve, reject });
      if (!this.#scheduled && this.#inFlight < this.#opts.maxInFlight) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#drain();
        });
      }
    });
  }

  /** Starts batches while there is room; a finished batch starts the next at once. */
  #drain(): void {
    while (this.#inFlight < this.#opts.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#opts.maxBatch);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
  }

  async #run(batch: Item[]): Promise<void> {
    if (batch.length === 1) {
      await this.#alone(batch[0]!);
      return;
    }
    let results: PlainSendResult[];
    try {
      results = await storePlainSendsInOneStatement(
        this.#db,
        batch.map((i) => i.send),
      );
    } catch {
      // Nothing of the batch was written: each send alone (its own error, if any, is its own).
      await Promise.all(batch.map((i) => this.#alone(i)));
      return;
    }
    this.#opts.onBatch?.(batch.length);
    for (const [n, item] of batch.entries()) item.resolve(results[n] ?? null);
  }

  async #alone(item: Item): Promise<void> {
    try {
      const r = await storePlainSendInOneStatement(this.#db, item.send.message, item.send.event);
      this.#opts.onBatch?.(1);
      item.resolve(r);
    } catch (err) {
      // A client id taken by a concurrent send: the general path returns that message.
      if (isUniqueViolation(err)) item.resolve(null);
      else item.reject(err);
    }
  }
}
