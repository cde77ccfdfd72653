import type { ExpressionBuilder } from 'kysely';
import type { Database, Db } from '../schema.ts';

/**
 * The visibility rule of domain/visibility.ts in SQL: a row that belongs to a conversation is
 * shown only while that conversation exists and is not deleted (recycle bin, deletion job).
 */

/** Of `conversationIds`, those whose content is shown now (one query). */
export async function findShownConversationIds(
  db: Db,
  conversationIds: readonly string[],
): Promise<Set<string>> {
  if (conversationIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('conversation')
    .select('id')
    .where('id', 'in', [...new Set(conversationIds)])
    .where('deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => String(r.id)));
}

/**
 * A `where` for webhook deliveries: those of no conversation, and those of a conversation that
 * is shown.
 */
export function deliveryShown(eb: ExpressionBuilder<Database, 'webhook_delivery'>) {
  return eb.or([
    eb('webhook_delivery.conversation_id', 'is', null),
    eb.exists(
      eb
        .selectFrom('conversation as shown')
        .select('shown.id')
        .whereRef('shown.id', '=', 'webhook_delivery.conversation_id')
        .where('shown.deleted_at', 'is', null),
    ),
  ]);
}
