import Type from 'typebox';
import { DeletionJobStatus } from '../../domain/deletion-jobs.ts';
import { IdString, literals, Nullable, Timestamp } from '../schemas.ts';

/** The JSON shapes of deletion jobs and the off-peak window (presented by http/present/deletion-jobs.ts). */

export const DateText = Type.String({ maxLength: 32, description: 'A date as YYYY-MM-DD (UTC), inclusive' });

export const DeletionJobSchema = Type.Object({
  id: Type.String({ description: 'cdj-<uuid>' }),
  status: literals(DeletionJobStatus),
  dry_run: Type.Boolean({ description: 'Counts what it would delete; deletes nothing' }),
  selector: Type.Object({
    kind: literals(['conversations', 'customer', 'org'] as const),
    conversation_ids: Type.Optional(Type.Array(IdString)),
    customer_id: Type.Optional(Type.String()),
    start_date: Type.Optional(Type.String({ description: 'Resolved start of the range (YYYY-MM-DD)' })),
    end_date: Type.Optional(Type.String({ description: 'Resolved end of the range (YYYY-MM-DD)' })),
  }),
  requested_by: Type.Object({
    actor_id: Nullable(IdString),
    app_id: Nullable(Type.Integer({ description: 'The AppId of the app that asked (the bot dialect)' })),
  }),
  submitted_at: Timestamp,
  not_before: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  progress: Type.Object({
    conversations_total: Nullable(Type.Integer({ description: 'Matched when the job started' })),
    conversations_done: Type.Integer(),
    percent: Nullable(Type.Integer({ minimum: 0, maximum: 100 })),
  }),
  counts: Type.Object({
    conversations_deleted: Type.Integer({ description: 'For a dry run: would be deleted' }),
    messages_deleted: Type.Integer({ description: 'For a dry run: would be deleted' }),
    conversations_skipped: Type.Integer({ description: 'Open support chats left alone' }),
  }),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
});

export const WindowSchema = Type.Object({
  any_time: Type.Boolean(),
  start: Nullable(Type.String({ description: 'HH:MM, local to time_zone' })),
  end: Nullable(Type.String({ description: 'HH:MM, local to time_zone; before start means after midnight' })),
  time_zone: Nullable(Type.String({ description: 'IANA time zone' })),
  source: literals(['org', 'default'] as const),
  open_now: Type.Boolean(),
  next_opening: Timestamp,
});

export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
