import { sql } from 'kysely';
import type { Db } from '../schema.ts';
import { deleteAnswersQuoting } from './idempotency.ts';

/**
 * Redaction in place of a message deleted for everyone (docs/security.md#erasure). Besides its
 * own row, a message's text and metadata are copied into:
 * - the event log: `message.created`, `message.edited` (the text each edit set), `pin.created`
 *   (the pinned message), each in `payload.message`, indexed by `event_conversation`
 *   (conversation_id, message_id): every event that carries a message names its conversation;
 * - webhook deliveries of those events (`data.message`), indexed by `webhook_delivery.message_id`;
 * - the stored answers of idempotent requests (`Idempotency-Key`) that returned it.
 * The copies in the log and the deliveries are overwritten with the tombstone (the message as
 * it now presents: text and metadata null), so catch-up, the delivery lists and exports, and a
 * later attempt of a delivery carry the tombstone; the stored answers are removed (a replay runs
 * the request again, which finds the message by its client id and answers the tombstone).
 */
export async function redactMessageCopies(
  db: Db,
  m: { orgId: string; conversationId: string; id: string },
  tombstone: Record<string, unknown>,
): Promise<{ events: number; deliveries: number; answers: number }> {
  const events = await rewriteCopies(
    db,
    { table: 'event', key: 'seq', path: [], conversationId: m.conversationId },
    m.id,
    tombstone,
  );
  // Every stored delivery, sent or not: a pending or failed one is attempted again with the
  // tombstone; of a sent one the receiver keeps what it got, Parley keeps no copy of the text.
  const deliveries = await rewriteCopies(
    db,
    { table: 'webhook_delivery', key: 'id', path: ['data'] },
    m.id,
    tombstone,
  );
  const answers = await deleteAnswersQuoting(db, [m.orgId], [m.id]);
  return { events, deliveries, answers };
}

/** Overwrites `path`.message with the tombstone in the rows of `table` that carry the message; how many. */
async function rewriteCopies(
  db: Db,
  where: {
    table: 'event' | 'webhook_delivery';
    key: 'seq' | 'id';
    path: readonly string[];
    /** The event log is indexed by (conversation_id, message_id). */
    conversationId?: string;
  },
  messageId: string,
  tombstone: Record<string, unknown>,
): Promise<number> {
  const table = sql.table(where.table);
  const key = sql.ref(where.key);
  const inConversation =
    where.conversationId === undefined ? sql`` : sql`conversation_id = ${where.conversationId} and `;
  const { rows } = await sql<{ k: string | number; payload: string }>`
    select ${key} as k, payload from ${table} where ${inConversation}message_id = ${messageId}`.execute(db);
  for (const r of rows)
    await sql`update ${table} set payload = ${withMessage(r.payload, where.path, tombstone)}
      where ${key} = ${r.k}`.execute(db);
  return rows.length;
}

/** The JSON `payload` with the object at `path` + `message` replaced by `tombstone` (key order kept). */
function withMessage(payload: string, path: readonly string[], tombstone: Record<string, unknown>): string {
  const root = JSON.parse(payload) as Record<string, unknown>;
  let at = root;
  for (const key of path) at = (at[key] ?? {}) as Record<string, unknown>;
  at.message = tombstone;
  return JSON.stringify(root);
}
