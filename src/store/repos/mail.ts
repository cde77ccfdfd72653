import type { Db, MailOutboxTable } from '../schema.ts';
import { leaseDueRows } from './lease.ts';

/** The mail outbox: mail is written in the transaction that decides to send it, then sent. */

export const MailStatus = ['pending', 'sent', 'failed', 'unsent'] as const;
export type MailStatus = (typeof MailStatus)[number];

export interface OutboxMail {
  id: string;
  orgId: string;
  to: string;
  subject: string;
  body: string;
  status: MailStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  messageId: string | null;
  createdAt: number;
  sentAt: number | null;
  /** A transcript mail: the support chat whose transcript becomes its body when it is sent. */
  transcriptOf: string | null;
}

function toMail(r: MailOutboxTable): OutboxMail {
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    to: r.to_address,
    subject: r.subject,
    body: r.body,
    status: r.status as MailStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error,
    messageId: r.message_id,
    createdAt: Number(r.created_at),
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
    transcriptOf: r.transcript_of === null || r.transcript_of === undefined ? null : String(r.transcript_of),
  };
}

/** Inserts mail (in the caller's transaction). */
export async function insertMail(db: Db, mails: readonly OutboxMail[]): Promise<void> {
  if (mails.length === 0) return;
  await db
    .insertInto('mail_outbox')
    .values(
      mails.map((m) => ({
        id: m.id,
        org_id: m.orgId,
        to_address: m.to,
        subject: m.subject,
        body: m.body,
        status: m.status,
        attempts: m.attempts,
        next_attempt_at: m.nextAttemptAt,
        last_error: null,
        message_id: null,
        created_at: m.createdAt,
        sent_at: null,
        transcript_of: m.transcriptOf,
      })),
    )
    .execute();
}

/**
 * Takes up to `limit` due pending mails for sending; their next attempt moves to `leaseUntil`
 * so no other node sends them meanwhile (rows being taken elsewhere are skipped when the
 * database can).
 */
export async function claimDueMail(
  db: Db,
  opts: { now: number; leaseUntil: number; limit: number; skipLocked: boolean },
): Promise<OutboxMail[]> {
  return (await leaseDueRows(db, 'mail_outbox', opts)).map(toMail);
}

/** Records the outcome of a send attempt (compare-and-set on the attempts seen). */
export async function recordMailAttempt(
  db: Db,
  m: Pick<OutboxMail, 'id' | 'attempts'>,
  v: {
    status: MailStatus;
    nextAttemptAt: number;
    error: string | null;
    messageId: string | null;
    now: number;
    countAttempt: boolean;
  },
): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({
      status: v.status,
      attempts: v.countAttempt ? m.attempts + 1 : m.attempts,
      next_attempt_at: v.nextAttemptAt,
      last_error: v.error,
      message_id: v.messageId,
      sent_at: v.status === 'sent' ? v.now : null,
    })
    .where('id', '=', m.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', m.attempts)
    .execute();
}

/** The org's mail, newest first (tests and support). */
export async function listOrgMail(db: Db, orgId: string, limit = 50): Promise<OutboxMail[]> {
  const rows = await db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toMail);
}

/** Periodic: forgets mail that was sent (or given up on) before `before`. */
export async function deleteFinishedMailBefore(db: Db, before: number): Promise<number> {
  const res = await db
    .deleteFrom('mail_outbox')
    .where('status', 'in', ['sent', 'failed'])
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
