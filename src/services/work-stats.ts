import type { AppContext } from '../context.ts';
import { countByStatus } from '../store/repos/stats.ts';

/** Background work by state, for /metrics: deletion jobs, mail and webhook deliveries. */
export async function workByState(
  ctx: AppContext,
  kind: 'deletion_job' | 'mail' | 'webhook_delivery',
): Promise<{ status: string; n: number }[]> {
  return countByStatus(ctx.db, kind === 'mail' ? 'mail_outbox' : kind);
}
