import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { DeletionJobStatus, MAX_JOB_CONVERSATION_IDS } from '../../domain/deletion-jobs.ts';
import {
  cancelDeletionJob,
  createDeletionJob,
  getDeletionJob,
  getDeletionWindow,
  listDeletionJobs,
  setDeletionWindow,
} from '../../services/deletion-jobs.ts';
import { principalOf } from '../auth.ts';
import { presentDeletionJob, presentWindow } from '../present/deletion-jobs.ts';
import { presentPage } from '../present.ts';
import { DateText, DeletionJobSchema, JobParams, WindowSchema } from '../schemas/deletion-jobs.ts';
import {
  commonErrors,
  IdempotencyHeaders,
  IdInput,
  listQuery,
  literals,
  page,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/** Conversation deletion jobs and the org's off-peak window (org owners and admins). */

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
        querystring: listQuery({ status: Type.Optional(literals(DeletionJobStatus)) }),
        response: { 200: page(DeletionJobSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listDeletionJobs(ctx, principalOf(req), {
        status: req.query.status,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentDeletionJob);
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
