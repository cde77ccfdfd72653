// Seed 004_98207ef406c556ab.txt (bot platform, "Delete Conversation Records"): initiate a deletion
// job (POST .../conversations/delete) and retrieve its status (the path is Parley's, see docs/compat.md).

import type { AppContext } from '../../context.ts';
import { type Api, typed } from '../../http/routes/util.ts';
import { createDeletionJob, getDeletionJob } from '../../services/deletion-jobs.ts';
import { koreAppOf } from './auth.ts';
import { presentQueued, presentStatus } from './present.ts';
import {
  AuthHeaders,
  BotParams,
  DeleteBody,
  ErrorResponse,
  JobParams,
  QueuedResponse,
  StatusResponse,
} from './schemas.ts';
import { KORE_FIELDS, toJobInput } from './translate.ts';

const tags = ['compat: kore'];

/** The two operations: translate, call the deletion-job service, present. */
export function koreRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.post(
    '/api/public/bot/:botId/conversations/delete',
    {
      config: { kore: true },
      schema: {
        tags,
        summary: 'Initiate a conversation deletion job (by conversationIds, or cId with startDate/endDate)',
        description:
          'Only queues the job; it runs in the off-peak window and the bot owner is mailed on completion.',
        params: BotParams,
        headers: AuthHeaders,
        body: DeleteBody,
        response: { 200: QueuedResponse, '4xx': ErrorResponse },
      },
    },
    async (req) => {
      const app = koreAppOf(req);
      const job = await createDeletionJob(
        ctx,
        { kind: 'app', orgId: app.orgId, appId: app.appId },
        toJobInput(req.body),
        KORE_FIELDS,
      );
      return presentQueued(job);
    },
  );

  r.get(
    '/api/public/bot/:botId/conversations/delete/status/:jobId',
    {
      config: { kore: true },
      schema: {
        tags,
        summary: 'The status of a conversation deletion job',
        params: JobParams,
        headers: AuthHeaders,
        response: { 200: StatusResponse, '4xx': ErrorResponse },
      },
    },
    async (req) => {
      const app = koreAppOf(req);
      return presentStatus(
        await getDeletionJob(ctx, { kind: 'app', orgId: app.orgId, appId: app.appId }, req.params.jobId),
      );
    },
  );
}
