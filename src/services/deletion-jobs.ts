import { randomUUID } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import {
  canManageDeletionJobs,
  type DeletionJob,
  type DeletionJobStatus,
  type DeletionSelector,
  type DeletionWindow,
  isJobId,
  makeWindow,
  nextWindowOpening,
  openConversations,
  parseWindowSpec,
  queuedJob,
  resolveDateRange,
  type SelectorFieldNames,
  type SelectorInput,
  selectorKind,
  unknownConversations,
  WINDOW_SETTING_KEY,
  windowFromSettings,
  windowSetting,
} from '../domain/deletion-jobs.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import { isOpenChat } from '../domain/support.ts';
import { findActorByExternalId } from '../store/repos/actors.ts';
import {
  cancelQueuedJob,
  findDeletionJobRow,
  findOrgConversations,
  insertDeletionJob,
  listDeletionJobRows,
  rescheduleWaitingJobs,
  toDeletionJob,
} from '../store/repos/deletion-jobs.ts';
import { findOrgById, findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { checkQuota, countPendingDeletionJobs, lockOrgForQuota } from './quotas.ts';
import { inTransaction } from './tx.ts';

/**
 * Conversation deletion jobs, the use cases: create, read, list, cancel, and the org's off-peak
 * window. Creating one only checks the request and queues it; the job runner (jobs/runner.ts)
 * runs it with services/deletion-runner.ts in the org's off-peak window, one small step at a
 * time (its phases: plan, select, delete, purge, finish), and mails the owners when it ends
 * (services/deletion-mail.ts). A dry run deletes nothing and starts at once.
 */

/** Who asks: an org admin through the native API, or an app of the org (the bot dialect). */
export type JobRequester =
  | { kind: 'actor'; principal: Principal }
  | { kind: 'app'; orgId: string; appId: number };

const orgOf = (r: JobRequester) => (r.kind === 'actor' ? r.principal.orgId : r.orgId);

/** The native API's field names, for errors. */
export const NATIVE_FIELDS: SelectorFieldNames = {
  conversationIds: 'body.conversation_ids',
  customerId: 'body.customer_id',
  startDate: 'body.start_date',
  endDate: 'body.end_date',
};

export interface CreateJobInput extends SelectorInput {
  dryRun?: boolean | undefined;
}

/** The window an org's jobs run in: its own, or the server default (DELETION_WINDOW). */
export async function orgWindow(
  ctx: AppContext,
  orgId: string,
  db: Db = ctx.db,
): Promise<{ window: DeletionWindow; own: boolean }> {
  const settings = await findOrgSettings(db, orgId);
  const fallback = parseWindowSpec(ctx.config.deletionWindow);
  const window = windowFromSettings(settings, fallback);
  return { window, own: window !== fallback };
}

/**
 * Queues a deletion job and answers at once. Exactly one selector: `conversationIds` (each
 * must be a conversation of the org: `conversation_not_found` 404 listing the others; open
 * support chats are `chat_not_closed` 409), or `customerId`, an actor's external id
 * (`customer_not_found` 404) with an optional inclusive date range (see resolveDateRange:
 * `invalid_date`, `end_date_in_future`, `invalid_date_range` 400). Selector errors:
 * `selector_required`, `ambiguous_selector`, `dates_need_customer` (400). Actors must be org
 * owners or admins (`admin_role_required` 403). The job waits for the org's off-peak window
 * (`notBefore`); a dry run starts at once.
 */
export async function createDeletionJob(
  ctx: AppContext,
  requester: JobRequester,
  input: CreateJobInput,
  names: SelectorFieldNames = NATIVE_FIELDS,
): Promise<DeletionJob> {
  if (requester.kind === 'actor') authorize(canManageDeletionJobs(requester.principal));
  const orgId = orgOf(requester);
  const now = ctx.clock.now();
  let selector: DeletionSelector;
  if (selectorKind(input, names) === 'conversations') {
    const ids = [...new Set(input.conversationIds!)];
    const found = new Map((await findOrgConversations(ctx.db, orgId, ids)).map((c) => [c.id, c]));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw unknownConversations(missing);
    const open = ids.filter((id) => isOpenChat(found.get(id)?.state));
    if (open.length > 0) throw openConversations(open);
    selector = { kind: 'conversations', conversationIds: ids };
  } else {
    const customerId = input.customerId!;
    const customer = await findActorByExternalId(ctx.db, orgId, customerId);
    if (!customer)
      throw new NotFoundError('customer_not_found', `No customer with the external id ${customerId}`);
    const org = await findOrgById(ctx.db, orgId);
    const range = resolveDateRange(
      input,
      { customerCreatedAt: customer.createdAt, orgCreatedAt: org?.createdAt ?? 0, now },
      names,
    );
    selector = { kind: 'customer', customerId, actorId: customer.id, ...range };
  }
  const { window } = await orgWindow(ctx, orgId);
  const job = queuedJob({
    id: `cdj-${randomUUID()}`,
    orgId,
    requestedBy: requester.kind === 'actor' ? requester.principal.actor.id : null,
    requestedByApp: requester.kind === 'app' ? requester.appId : null,
    selector,
    dryRun: input.dryRun === true,
    notBefore: input.dryRun ? now : nextWindowOpening(window, now),
    submittedAt: now,
  });
  // Who asked for what is audited with the job itself (its purges are audited as they happen).
  await inTransaction(ctx, async (tx) => {
    await lockOrgForQuota(ctx, tx.db, orgId);
    checkQuota(
      'deletion_jobs',
      ctx.config.quotas.deletionJobs,
      await countPendingDeletionJobs(tx.db, orgId),
      1,
      'The org has as many deletion jobs waiting as it may',
    );
    await insertDeletionJob(tx.db, job);
    tx.audit([
      {
        orgId,
        actorId: job.requestedBy,
        action: 'deletion_job.created',
        targetType: 'deletion_job',
        targetId: job.id,
        details: {
          ...(job.selector.kind === 'conversations'
            ? { conversation_ids: job.selector.conversationIds }
            : job.selector.kind === 'org'
              ? { org: true }
              : {
                  customer_id: job.selector.customerId,
                  start_date: job.selector.startDate,
                  end_date: job.selector.endDate,
                }),
          dry_run: job.dryRun,
          ...(job.requestedByApp ? { app_id: job.requestedByApp } : {}),
        },
      },
    ]);
  });
  return job;
}

const jobNotFound = (id: string) =>
  new NotFoundError('deletion_job_not_found', `Deletion job ${id} not found`);

/** One job of the requester's org (`deletion_job_not_found` 404, the same for other orgs' jobs). */
export async function getDeletionJob(
  ctx: AppContext,
  requester: JobRequester,
  id: string,
): Promise<DeletionJob> {
  if (requester.kind === 'actor') authorize(canManageDeletionJobs(requester.principal));
  const row = isJobId(id) ? await findDeletionJobRow(ctx.db, orgOf(requester), id) : undefined;
  if (!row) throw jobNotFound(id);
  return toDeletionJob(row);
}

/** A cursor of the jobs list: the last job's submission time and id (`invalid_cursor` 400). */
function decodeJobCursor(cursor: string): { submittedAt: number; id: string } {
  const [submittedAt, id] = decodeCursor(cursor, 'deletion-jobs', ['int', 'text']);
  if (!isJobId(String(id)))
    throw ValidationError.field('query.cursor', 'is not a cursor returned by this list', 'invalid_cursor');
  return { submittedAt: Number(submittedAt), id: String(id) };
}

/** The org's jobs, newest first, optionally of one status (`invalid_cursor` 400). */
export async function listDeletionJobs(
  ctx: AppContext,
  p: Principal,
  input: { status?: DeletionJobStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: DeletionJob[]; nextCursor: string | null }> {
  authorize(canManageDeletionJobs(p));
  const rows = await listDeletionJobRows(ctx.db, p.orgId, {
    status: input.status,
    before: input.cursor ? decodeJobCursor(input.cursor) : undefined,
    limit: input.limit + 1,
  });
  return keysetPage(rows.map(toDeletionJob), input.limit, 'deletion-jobs', (last) => [
    last.submittedAt,
    last.id,
  ]);
}

/** Cancels a queued job (`job_not_queued` 409 once it has started or ended; `deletion_job_not_found` 404). */
export async function cancelDeletionJob(ctx: AppContext, p: Principal, id: string): Promise<DeletionJob> {
  const job = await getDeletionJob(ctx, { kind: 'actor', principal: p }, id);
  const row = await cancelQueuedJob(ctx.db, p.orgId, job.id, ctx.clock.now());
  if (row) return toDeletionJob(row);
  const current = await getDeletionJob(ctx, { kind: 'actor', principal: p }, id);
  throw new ConflictError(
    'job_not_queued',
    `Only a queued job can be cancelled; this one is ${current.status}`,
    {
      status: current.status,
    },
  );
}

/** The org's off-peak window for deletion jobs, and whether it is the org's own or the server default. */
export async function getDeletionWindow(
  ctx: AppContext,
  p: Principal,
): Promise<{ window: DeletionWindow; own: boolean }> {
  authorize(canManageDeletionJobs(p));
  return orgWindow(ctx, p.orgId);
}

/**
 * Sets the org's off-peak window (`invalid_window` 400, `admin_role_required` 403); jobs waiting
 * for the window (queued, or paused when it closed) move to its next opening.
 */
export async function setDeletionWindow(
  ctx: AppContext,
  p: Principal,
  input: Parameters<typeof makeWindow>[0],
): Promise<{ window: DeletionWindow; own: boolean }> {
  authorize(canManageDeletionJobs(p));
  const window = makeWindow(input);
  await updateOrgSetting(ctx.db, p.orgId, WINDOW_SETTING_KEY, windowSetting(window));
  await rescheduleWaitingJobs(ctx.db, p.orgId, nextWindowOpening(window, ctx.clock.now()));
  return { window, own: true };
}
