import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import {
  type DeletionJob,
  DeletionJobStatus,
  type DeletionWindow,
  formatMinutes,
  isWindowOpen,
  MAX_JOB_CONVERSATION_IDS,
  nextWindowOpening,
} from '../../domain/deletion-jobs.ts';
import { iso, optIso } from '../../domain/presenters.ts';
import {
  cancelDeletionJob,
  createDeletionJob,
  getDeletionJob,
  getDeletionWindow,
  listDeletionJobs,
  setDeletionWindow,
} from '../../services/deletion-jobs.ts';
import { principalOf } from '../auth.ts';
import {
  Cursor,
  commonErrors,
  IdempotencyHeaders,
  IdInput,
  IdString,
  Limit,
  literals,
  Nullable,
  page,
  readErrors,
  Timestamp,
} from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/** Conversation deletion jobs and the org's off-peak window (org owners and admins). */

const DateText = Type.String({ maxLength: 32, description: 'A date as YYYY-MM-DD (UTC), inclusive' });

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

/** A job in the native API's JSON. */
export function presentDeletionJob(j: DeletionJob) {
  const done = j.counts.conversationsDeleted + j.counts.conversationsSkipped;
  const s = j.selector;
  return {
    id: j.id,
    status: j.status,
    dry_run: j.dryRun,
    selector:
      s.kind === 'conversations'
        ? { kind: s.kind, conversation_ids: s.conversationIds }
        : s.kind === 'org'
          ? { kind: s.kind }
          : { kind: s.kind, customer_id: s.customerId, start_date: s.startDate, end_date: s.endDate },
    requested_by: { actor_id: j.requestedBy, app_id: j.requestedByApp },
    submitted_at: iso(j.submittedAt),
    not_before: iso(j.notBefore),
    started_at: optIso(j.startedAt),
    finished_at: optIso(j.finishedAt),
    progress: {
      conversations_total: j.conversationsTotal,
      conversations_done: done,
      percent:
        j.status === 'completed'
          ? 100
          : j.conversationsTotal
            ? Math.min(100, Math.floor((done * 100) / j.conversationsTotal))
            : j.conversationsTotal === 0
              ? 100
              : null,
    },
    counts: {
      conversations_deleted: j.counts.conversationsDeleted,
      messages_deleted: j.counts.messagesDeleted,
      conversations_skipped: j.counts.conversationsSkipped,
    },
    error: j.error,
  };
}

const WindowSchema = Type.Object({
  any_time: Type.Boolean(),
  start: Nullable(Type.String({ description: 'HH:MM, local to time_zone' })),
  end: Nullable(Type.String({ description: 'HH:MM, local to time_zone; before start means after midnight' })),
  time_zone: Nullable(Type.String({ description: 'IANA time zone' })),
  source: literals(['org', 'default'] as const),
  open_now: Type.Boolean(),
  next_opening: Timestamp,
});

function presentWindow(w: { window: DeletionWindow; own: boolean }, now: number) {
  const win = w.window;
  return {
    any_time: win.anyTime,
    start: win.anyTime ? null : formatMinutes(win.start),
    end: win.anyTime ? null : formatMinutes(win.end),
    time_zone: win.anyTime ? null : win.timeZone,
    source: w.own ? ('org' as const) : ('default' as const),
    open_now: isWindowOpen(win, now),
    next_opening: iso(nextWindowOpening(win, now)),
  };
}

const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export function deletionJobRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['deletion jobs'];

  r.post(
    '/deletion-jobs',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Queue a conversation deletion job (org owners and admins)',
        description:
          'Exactly one selector: conversation_ids, or customer_id (an actor external id) with an optional inclusive start_date..end_date (UTC; start defaults to the later of the customer and org creation dates, end to today and may not be in the future). The job runs in the org off-peak window, in chunks; dry_run counts without deleting. Answers 202 at once.',
        body: Type.Object(
          {
            conversation_ids: Type.Optional(Type.Array(IdInput, { maxItems: MAX_JOB_CONVERSATION_IDS })),
            customer_id: Type.Optional(
              Type.String({ maxLength: 200, description: "The customer's external id" }),
            ),
            start_date: Type.Optional(DateText),
            end_date: Type.Optional(DateText),
            dry_run: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 202: DeletionJobSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const job = await createDeletionJob(
        ctx,
        { kind: 'actor', principal: principalOf(req) },
        {
          conversationIds: b.conversation_ids?.map((v, i) => bodyId(v, `body.conversation_ids.${i}`)),
          customerId: b.customer_id,
          startDate: b.start_date,
          endDate: b.end_date,
          dryRun: b.dry_run,
        },
      );
      return reply.code(202).send(presentDeletionJob(job));
    },
  );

  r.get(
    '/deletion-jobs',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "The org's deletion jobs, newest first",
        querystring: Type.Object(
          {
            status: Type.Optional(literals(DeletionJobStatus)),
            limit: Type.Optional(Limit),
            cursor: Type.Optional(Cursor),
          },
          { additionalProperties: false },
        ),
        response: { 200: page(DeletionJobSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listDeletionJobs(ctx, principalOf(req), {
        status: req.query.status,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return { items: result.items.map(presentDeletionJob), next_cursor: result.nextCursor };
    },
  );

  r.get(
    '/deletion-jobs/window',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'The off-peak window deletion jobs run in',
        response: { 200: WindowSchema, ...readErrors },
      },
    },
    async (req) => presentWindow(await getDeletionWindow(ctx, principalOf(req)), ctx.clock.now()),
  );

  r.put(
    '/deletion-jobs/window',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Set the org's off-peak window",
        description:
          'Either {"any_time": true}, or start and end as HH:MM in time_zone (an IANA zone, UTC by default); an end before the start spans midnight. Queued jobs move to the next opening.',
        body: Type.Object(
          {
            any_time: Type.Optional(Type.Boolean()),
            start: Type.Optional(Type.String({ maxLength: 5 })),
            end: Type.Optional(Type.String({ maxLength: 5 })),
            time_zone: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: WindowSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentWindow(
        await setDeletionWindow(ctx, principalOf(req), {
          anyTime: req.body.any_time,
          start: req.body.start,
          end: req.body.end,
          timeZone: req.body.time_zone,
        }),
        ctx.clock.now(),
      ),
  );

  r.get(
    '/deletion-jobs/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'A deletion job: status, progress and counts',
        params: JobParams,
        response: { 200: DeletionJobSchema, ...readErrors },
      },
    },
    async (req) =>
      presentDeletionJob(
        await getDeletionJob(ctx, { kind: 'actor', principal: principalOf(req) }, req.params.id),
      ),
  );

  r.post(
    '/deletion-jobs/:id/cancel',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Cancel a queued deletion job',
        description: 'Only queued jobs can be cancelled (409 job_not_queued once it has started).',
        params: JobParams,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: DeletionJobSchema, ...commonErrors },
      },
    },
    async (req) => presentDeletionJob(await cancelDeletionJob(ctx, principalOf(req), req.params.id)),
  );
}
