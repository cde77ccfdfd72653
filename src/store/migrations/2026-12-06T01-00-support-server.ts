import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Support hours and transcripts rendered when sent:
 * - `department_hours`: a department's opening hours, an IANA time zone and its weekly
 *   intervals (JSON: `{"mon":[["09:00","17:30"]],…}`, days left out are closed). A department
 *   without a row is open whenever an operator is available (domain/support-hours.ts).
 * - `mail_outbox.transcript_of`: the support chat whose transcript the mail is. Its body is
 *   rendered from the chat's messages as they are when the mail is sent, so a message deleted
 *   (or purged, or erased) while the mail waits never reaches the visitor's inbox.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';
  await db.schema
    .createTable('department_hours')
    .addColumn('department_id', id, (c) => c.primaryKey().references('department.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('weekly', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('mail_outbox').addColumn('transcript_of', id).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('transcript_of').execute();
  await db.schema.dropTable('department_hours').execute();
}
