import type { Db } from '../schema.ts';

/** Tables whose rows are work in some state: what /metrics counts by state. */
export type WorkTable = 'deletion_job' | 'mail_outbox' | 'webhook_delivery';

/** The rows of `table` by `status` across every org: one grouped query. */
export async function countByStatus(db: Db, table: WorkTable): Promise<{ status: string; n: number }[]> {
  const rows = await db
    .selectFrom(table)
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}
