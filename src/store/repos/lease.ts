import type { Kysely } from 'kysely';
import type { Database, Db } from '../schema.ts';

/** The outbox tables whose due rows senders lease: pending rows with a next attempt time. */
type LeasedTable = 'mail_outbox' | 'webhook_delivery';

/**
 * Takes up to `limit` due pending rows of an outbox for sending: their next attempt moves to
 * `leaseUntil`, so no other node sends them meanwhile (with `skipLocked`, rows another node is
 * taking are skipped rather than waited for). The update re-checks `pending`, so a row finished
 * between the two steps is not taken. Returns the rows as they are after the lease.
 */
export async function leaseDueRows<T extends LeasedTable>(
  db: Db,
  table: T,
  opts: { now: number; leaseUntil: number; limit: number; skipLocked: boolean },
): Promise<Database[T][]> {
  const k = db as unknown as Kysely<any>;
  let due = k
    .selectFrom(table as string)
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', opts.now)
    .orderBy('next_attempt_at')
    .limit(opts.limit);
  if (opts.skipLocked) due = due.forUpdate().skipLocked();
  return (await k
    .updateTable(table as string)
    .set({ next_attempt_at: opts.leaseUntil })
    .where('id', 'in', due)
    .where('status', '=', 'pending')
    .returningAll()
    .execute()) as Database[T][];
}
