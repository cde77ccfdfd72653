import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * `webhook_delivery.message_id`: the message a delivery's payload carries (`data.message`), so
 * that a delete for everyone finds the stored deliveries and redacts them in its transaction,
 * even after the event they came from has left the 3-day event log (deliveries are kept 30
 * days). Filled for the deliveries already stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .alterTable('webhook_delivery')
    .addColumn('message_id', pg ? 'bigint' : 'integer')
    .execute();
  const fromPayload = pg
    ? sql`(payload::jsonb #>> '{data,message,id}')::bigint`
    : sql`cast(json_extract(payload, '$.data.message.id') as integer)`;
  await sql`update webhook_delivery set message_id = ${fromPayload}`.execute(db);
  await db.schema
    .createIndex('webhook_delivery_message')
    .on('webhook_delivery')
    .column('message_id')
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_delivery_message').execute();
  await db.schema.alterTable('webhook_delivery').dropColumn('message_id').execute();
}
