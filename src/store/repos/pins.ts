import type { StickyMessage } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toSticky } from './rows.ts';

/** Sets the conversation's one pinned message, replacing any earlier pin. */
export async function upsertSticky(db: Db, orgId: string, s: StickyMessage): Promise<void> {
  const values = {
    conversation_id: s.conversationId,
    org_id: orgId,
    message_id: s.messageId,
    creator_id: s.creatorId,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
    notify: s.notify ? 1 : 0,
  };
  await db
    .insertInto('sticky_message')
    .values(values)
    .onConflict((oc) =>
      oc.column('conversation_id').doUpdateSet({
        message_id: values.message_id,
        creator_id: values.creator_id,
        created_at: values.created_at,
        expires_at: values.expires_at,
        notify: values.notify,
      }),
    )
    .execute();
}

/** The pin, unless it has expired (expired rows are also swept by the periodic job). */
export async function findActiveSticky(
  db: Db,
  conversationId: string,
  now: number,
): Promise<StickyMessage | undefined> {
  const row = await db
    .selectFrom('sticky_message')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row ? toSticky(row) : undefined;
}

export async function deleteSticky(db: Db, conversationId: string, messageId?: string): Promise<number> {
  let q = db.deleteFrom('sticky_message').where('conversation_id', '=', conversationId);
  if (messageId) q = q.where('message_id', '=', messageId);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function deleteExpiredStickies(db: Db, now: number): Promise<number> {
  const res = await db
    .deleteFrom('sticky_message')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
