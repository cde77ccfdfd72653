import { sql } from 'kysely';
import type { AttachmentTable, Db } from '../schema.ts';

export type AttachmentRow = AttachmentTable;

export async function insertAttachment(db: Db, row: AttachmentRow): Promise<void> {
  await db.insertInto('attachment').values(row).execute();
}

/** The attachment `id` of the org (any org: null, for signed links, whose signature names the id). */
export async function findAttachment(
  db: Db,
  orgId: string | null,
  id: string,
): Promise<AttachmentRow | undefined> {
  let q = db.selectFrom('attachment').selectAll().where('id', '=', id);
  if (orgId !== null) q = q.where('org_id', '=', orgId);
  const row = await q.executeTakeFirst();
  return row ? normalize(row) : undefined;
}

export async function deleteAttachmentRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('attachment').where('id', '=', id).execute();
}

/** Bytes an org stores: files and previews, attached or not, until the sweep removes them. */
export async function orgStorageBytes(db: Db, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('attachment')
    .select(sql<string | number>`coalesce(sum(size + coalesce(preview_size, 0)), 0)`.as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Attaches the uploader's own unattached uploads of this conversation to a message (in the
 * send's transaction); returns the rows it attached, in the order of `ids`. Fewer than asked:
 * some id is not such an upload (the caller rolls back).
 */
export async function attachUploads(
  db: Db,
  a: {
    orgId: string;
    uploaderId: string;
    conversationId: string;
    messageId: string;
    ids: string[];
    now: number;
  },
): Promise<AttachmentRow[]> {
  const rows = await db
    .updateTable('attachment')
    .set({ message_id: a.messageId, attached_at: a.now })
    .where('org_id', '=', a.orgId)
    .where('uploader_id', '=', a.uploaderId)
    .where('conversation_id', '=', a.conversationId)
    .where('message_id', 'is', null)
    .where('id', 'in', a.ids)
    .returningAll()
    .execute();
  const byId = new Map(rows.map((r) => [String(r.id), normalize(r)]));
  return a.ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Attachments whose bytes must go (sweepAttachments): never attached and older than
 * `unattachedBefore`; attached to a message that is deleted for everyone or gone (purged,
 * deleted by a job, its org deleted); or of an org that no longer exists.
 */
export async function findDoomedAttachments(
  db: Db,
  unattachedBefore: number,
  limit: number,
): Promise<AttachmentRow[]> {
  const rows = await sql<AttachmentRow>`select a.* from attachment a
    where (a.message_id is null and a.created_at < ${unattachedBefore})
       or (a.message_id is not null and not exists (select 1 from message m
             where m.id = a.message_id and m.deleted_at is null))
       or not exists (select 1 from org o where o.id = a.org_id)
    order by a.id limit ${limit}`.execute(db);
  return rows.rows.map(normalize);
}

function normalize(r: AttachmentRow): AttachmentRow {
  return {
    ...r,
    id: String(r.id),
    org_id: String(r.org_id),
    uploader_id: String(r.uploader_id),
    conversation_id: r.conversation_id === null ? null : String(r.conversation_id),
    message_id: r.message_id === null ? null : String(r.message_id),
    size: Number(r.size),
    preview_size: r.preview_size === null ? null : Number(r.preview_size),
    created_at: Number(r.created_at),
    attached_at: r.attached_at === null ? null : Number(r.attached_at),
  };
}
