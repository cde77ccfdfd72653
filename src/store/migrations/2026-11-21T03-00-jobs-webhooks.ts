import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Conversation deletion jobs (claimed by one node at a time, resumable where they stopped),
 * the mail outbox (written in the transaction that decides to send), webhooks and their
 * deliveries (written in the transaction of the change that caused them).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('deletion_job')
    // `cdj-<uuid>`, the id the bot vendor's API hands out.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    // Who asked: an actor (native API) or an app (the bot dialect); one of them is set.
    .addColumn('requested_by', id)
    .addColumn('requested_by_app', 'bigint')
    // JSON: {"kind":"conversations","conversation_ids":[...]} or
    // {"kind":"customer","customer_id":"...","actor_id":"...","start_date":"...","end_date":"..."}.
    .addColumn('selector', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('submitted_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('conversations_total', 'integer')
    .addColumn('conversations_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('messages_deleted', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('conversations_skipped', 'integer', (c) => c.notNull().defaultTo(0))
    // Resume point: the last conversation id handled, and the ids being deleted right now
    // (JSON array, hidden from everyone until they are purged).
    .addColumn('cursor', id)
    .addColumn('chunk', 'text')
    .addColumn('claimed_by', 'text')
    .addColumn('heartbeat_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .execute();
  await db.schema
    .createIndex('deletion_job_org')
    .on('deletion_job')
    .columns(['org_id', 'submitted_at'])
    .execute();
  // The runner's claim: queued or running jobs whose time has come.
  await db.schema
    .createIndex('deletion_job_due')
    .on('deletion_job')
    .columns(['status', 'not_before'])
    .execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    // pending -> sent | failed; `unsent` when no SMTP server is configured (kept and logged).
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('mail_outbox_due')
    .on('mail_outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();

  await db.schema
    .createTable('webhook')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    // JSON array of event types.
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_org').on('webhook').columns(['org_id', 'active']).execute();

  await db.schema
    .createTable('webhook_delivery')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('webhook_id', id, (c) => c.notNull().references('webhook.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'bigint', (c) => c.notNull())
    .addColumn('conversation_id', id)
    // The exact body sent on every attempt (the signature covers it).
    .addColumn('payload', 'text', (c) => c.notNull())
    // pending -> succeeded | failed.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  // The sender's claim (due pending deliveries), a webhook's list and summary, and the purge
  // of a deleted conversation's deliveries.
  await db.schema
    .createIndex('webhook_delivery_due')
    .on('webhook_delivery')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_delivery_webhook')
    .on('webhook_delivery')
    .columns(['webhook_id', 'status', 'id'])
    .execute();
  await db.schema
    .createIndex('webhook_delivery_conversation')
    .on('webhook_delivery')
    .column('conversation_id')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['webhook_delivery', 'webhook', 'mail_outbox', 'deletion_job'])
    await db.schema.dropTable(t).ifExists().execute();
}
