import { randomUUID } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import {
  canManageDeletionJobs,
  type DeletionJob,
  type DeletionJobStatus,
  type DeletionSelector,
  type DeletionWindow,
  dateRangeBounds,
  isJobId,
  isWindowOpen,
  MAX_JOB_ATTEMPTS,
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
import { findActorByExternalId, findActorsByIds } from '../store/repos/actors.ts';
import {
  cancelQueuedJob,
  checkpointLog,
  claimJob,
  countMessagesOf,
  countTargets,
  findClaimableJobs,
  findDeletionJobById,
  findDeletionJobRow,
  findOrgAdminIds,
  findOrgConversations,
  findOrgOwnerContacts,
  finishJob,
  hideForJob,
  insertDeletionJob,
  listDeletionJobRows,
  makeDueNow,
  nextTargets,
  recordJobProgress,
  releaseJob,
  rescheduleWaitingJobs,
  type TargetSpec,
  toDeletionJob,
} from '../store/repos/deletion-jobs.ts';
import { deleteOrgRow, vacuumAll } from '../store/repos/instance.ts';
import { findOrgById, findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';
import { deleteMessagesBatch, purgeDue } from '../store/repos/recycle-bin.ts';
import { deleteDeliveriesOfConversations } from '../store/repos/webhooks.ts';
import type { DeletionJobTable } from '../store/schema.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { queueMail } from './mail.ts';
import { checkQuota, countPendingDeletionJobs, lockOrgForQuota } from './quotas.ts';
import { eraseAfterPurge } from './recycle-bin.ts';
import { inOwnTransaction, inTransaction, type Tx } from './tx.ts';

/**
 * Conversation deletion jobs. Creating one only checks the request and queues it; the job
 * runner (jobs/runner.ts) runs it in the org's off-peak window, one small step at a time:
 *
 *   plan      count what the selector matches (progress total)
 *   select    take the next chunk of conversations after the cursor and hide them
 *             (invisible to everyone, out of the recycle bin) in one transaction
 *   delete    delete the chunk's messages, DELETION_BATCH_SIZE per transaction
 *   purge     purge the chunk exactly as the recycle bin does (events, pin, members, the rows),
 *             with an audit record per conversation
 *   finish    completed, with its event and the owners' mail, in one transaction
 *
 * Every step commits its progress (counts, cursor, chunk) in the transaction of its deletes,
 * after checking the runner still holds the job, so a process killed at any point resumes
 * exactly where it stopped and the counts stay exact. A dry run does plan and select only,
 * counting instead of hiding, and runs at once (it deletes nothing).
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
async function orgWindow(
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

/** Whether a stored selector is a whole org's (see DeletionSelector). */
function isOrgSelector(json: string): boolean {
  try {
    return (JSON.parse(json) as { kind?: unknown }).kind === 'org';
  } catch {
    return false;
  }
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

/* The runner's side. */

/** A job runner's identity: `<NODE_ID>:<boot id>`; a restarted node recognizes its dead claims by the prefix. */
export interface Worker {
  id: string;
  nodePrefix: string;
}

export function newWorker(nodeId: number): Worker {
  return { id: `${nodeId}:${randomUUID().slice(0, 8)}`, nodePrefix: `${nodeId}:` };
}

/** A running job whose runner has not been heard of for this long may be taken by another. */
export const JOB_LEASE_MS = 60_000;
/** Back-off before a job that hit an error is tried again: 30 s doubling. */
const retryDelay = (attempts: number) => 30_000 * 2 ** Math.max(0, attempts - 1);

/**
 * Takes the oldest job that may run now for `worker`: queued or abandoned, due, and in its org's
 * off-peak window (dry runs at any time). One transaction; rows other nodes are taking are
 * skipped (PostgreSQL), and the take itself is a compare-and-set, so no two runners get one job.
 * Returns the job id, or undefined when there is none.
 */
export async function claimDeletionJob(ctx: AppContext, worker: Worker): Promise<string | undefined> {
  const now = ctx.clock.now();
  // Its own transaction, not inTransaction: a claim must not share a commit with live traffic.
  return ctx.db.transaction().execute(async (tx) => {
    const candidates = await findClaimableJobs(tx, {
      now,
      staleBefore: now - JOB_LEASE_MS,
      nodePrefix: worker.nodePrefix,
      me: worker.id,
      limit: 20,
      skipLocked: ctx.caps.skipLocked,
    });
    const windows = new Map<string, DeletionWindow>();
    for (const row of candidates) {
      const orgId = String(row.org_id);
      if (Number(row.dry_run) !== 1 && !isOrgSelector(row.selector)) {
        if (!windows.has(orgId)) windows.set(orgId, (await orgWindow(ctx, orgId, tx)).window);
        if (!isWindowOpen(windows.get(orgId)!, now)) continue;
      }
      if (await claimJob(tx, row, worker.id, now)) return row.id;
    }
    return undefined;
  });
}

/** Thrown inside a step's transaction when the runner no longer holds the job: rolls it back. */
export class LostClaimError extends Error {
  constructor(id: string) {
    super(`deletion job ${id} is no longer held by this runner`);
  }
}

export type StepResult = 'more' | 'finished' | 'paused' | 'lost';

/**
 * The selector as the target queries want it. A customer's conversations are those that started
 * within the range and before the job was submitted (what existed when it was asked for).
 */
function targetSpec(job: DeletionJob): TargetSpec {
  const s = job.selector;
  if (s.kind === 'conversations') return { kind: 'conversations', conversationIds: s.conversationIds };
  if (s.kind === 'org') return { kind: 'org' };
  const { from, to } = dateRangeBounds(s.startDate, s.endDate);
  return { kind: 'customer', actorId: s.actorId, from, to: Math.min(to, job.submittedAt) };
}

/** A transaction of one step: its own (see claimDeletionJob), rolled back when the claim is gone. */
/** A step's own transaction (not the group commit's: a job must not share a commit with live traffic). */
function stepTx<T>(ctx: AppContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inOwnTransaction(ctx, fn);
}

/**
 * Does one step of a job `worker` holds (see the module comment) and says what is next:
 * `more`, `finished`, `paused` (the off-peak window closed: released until it opens again) or
 * `lost` (another runner holds it now). Errors propagate; the runner passes them to
 * retryOrFailJob. On the embedded database the step ends by checkpointing the log, so the job
 * pays for the pages it wrote within the time the runner measures and rests for.
 */
export async function stepDeletionJob(ctx: AppContext, worker: Worker, jobId: string): Promise<StepResult> {
  const result = await step(ctx, worker, jobId);
  if (result === 'more') await checkpointLog(ctx.db, ctx.caps.freedSpace === 'checkpoint');
  return result;
}

async function step(ctx: AppContext, worker: Worker, jobId: string): Promise<StepResult> {
  const row = await findDeletionJobById(ctx.db, jobId);
  if (row?.status !== 'running' || row.claimed_by !== worker.id) return 'lost';
  const job = toDeletionJob(row);
  const now = ctx.clock.now();
  // A whole org's deletion (its tokens are refused already) does not wait for its off-peak window.
  if (!job.dryRun && job.selector.kind !== 'org') {
    const { window } = await orgWindow(ctx, job.orgId);
    if (!isWindowOpen(window, now)) {
      await releaseJob(ctx.db, job.id, worker.id, { notBefore: nextWindowOpening(window, now) });
      return 'paused';
    }
  }
  const spec = targetSpec(job);
  const progress = async (tx: Db, change: Parameters<typeof recordJobProgress>[4]) => {
    if (!(await recordJobProgress(tx, job.id, worker.id, ctx.clock.now(), change)))
      throw new LostClaimError(job.id);
  };
  const run = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T | 'lost'> => {
    try {
      return await stepTx(ctx, fn);
    } catch (err) {
      if (err instanceof LostClaimError) return 'lost';
      throw err;
    }
  };

  if (job.conversationsTotal === null) {
    const total = await countTargets(ctx.db, job.orgId, spec);
    return (await run((tx) => progress(tx.db, { conversationsTotal: total }))) === 'lost' ? 'lost' : 'more';
  }

  const chunk = row.chunk ? (JSON.parse(row.chunk) as string[]) : null;
  if (chunk && chunk.length > 0) {
    const batch = ctx.config.deletionBatchSize;
    const deleted = await run(async (tx) => {
      const n = await deleteMessagesBatch(tx.db, chunk, batch);
      await progress(tx.db, { addMessagesDeleted: n });
      return n;
    });
    if (deleted === 'lost') return 'lost';
    if (deleted >= batch) return 'more';
    const purged = await run(async (tx) => {
      const t = ctx.clock.now();
      await makeDueNow(tx.db, job.orgId, chunk, t);
      // Messages sent after the chunk was hidden (a request already past its access check).
      const stragglers = await countMessagesOf(tx.db, chunk);
      const gone = await purgeDue(tx.db, chunk, t, false);
      await deleteDeliveriesOfConversations(
        tx.db,
        gone.map((c) => c.id),
      );
      tx.audit(
        gone.map((c) => ({
          orgId: job.orgId,
          actorId: job.requestedBy,
          action: 'conversation.purged' as const,
          targetId: c.id,
          details: { reason: 'deletion_job', job_id: job.id, kind: c.kind, reference_id: c.referenceId },
        })),
      );
      await progress(tx.db, {
        addConversationsDeleted: gone.length,
        addMessagesDeleted: stragglers,
        chunk: null,
      });
    });
    if (purged !== 'lost') await eraseAfterPurge(ctx);
    return purged === 'lost' ? 'lost' : 'more';
  }

  const targets = await nextTargets(
    ctx.db,
    job.orgId,
    spec,
    row.cursor === null ? null : String(row.cursor),
    ctx.config.deletionChunkSize,
  );
  if (targets.length === 0) {
    if (job.selector.kind !== 'org' || job.dryRun) return finishDeletionJob(ctx, worker, job.id);
    // The last step of a whole org's deletion: the org row and, by cascade, all that is left of it.
    const erased = await run(async (tx) => {
      await progress(tx.db, {});
      await deleteOrgRow(tx.db, job.orgId);
    });
    if (erased === 'lost') return 'lost';
    await eraseAfterPurge(ctx);
    if (ctx.caps.freedSpace === 'vacuum')
      void vacuumAll(ctx.db).catch((err: unknown) =>
        process.emitWarning(
          `VACUUM after an org deletion: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    return 'finished';
  }
  // A whole org's deletion takes open support chats too (the org is suspended: nobody is in them).
  const eligible = targets
    .filter((c) => job.selector.kind === 'org' || !isOpenChat(c.state))
    .map((c) => c.id);
  const skipped = targets.length - eligible.length;
  const cursor = targets.at(-1)!.id;
  const selected = await run(async (tx) => {
    if (job.dryRun) {
      const messages = await countMessagesOf(tx.db, eligible);
      await progress(tx.db, {
        cursor,
        addConversationsDeleted: eligible.length,
        addMessagesDeleted: messages,
        addConversationsSkipped: skipped,
      });
      return;
    }
    await hideForJob(tx.db, job.orgId, eligible, { now: ctx.clock.now(), deletedBy: job.requestedBy });
    await progress(tx.db, {
      cursor,
      chunk: eligible.length > 0 ? eligible : null,
      addConversationsSkipped: skipped,
    });
  });
  return selected === 'lost' ? 'lost' : 'more';
}

/** A job in the native API's JSON, for its events (and the webhooks that carry them). */
export function jobEventPayload(row: DeletionJobTable): Record<string, unknown> {
  const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)).toISOString());
  let selector: unknown = null;
  try {
    selector = JSON.parse(row.selector);
  } catch {
    selector = null;
  }
  return {
    job_id: row.id,
    status: row.status,
    dry_run: Number(row.dry_run) === 1,
    selector,
    conversations_deleted: Number(row.conversations_deleted),
    messages_deleted: Number(row.messages_deleted),
    conversations_skipped: Number(row.conversations_skipped),
    submitted_at: iso(row.submitted_at),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    error: row.error_code ? { code: row.error_code, message: row.error_message } : null,
  };
}

function describeSelector(row: DeletionJobTable): string {
  try {
    const s = JSON.parse(row.selector) as Record<string, unknown>;
    if (s.kind === 'org') return 'the whole org';
    if (s.kind === 'customer')
      return `the conversations of customer ${String(s.customer_id)} that started from ${String(s.start_date)} to ${String(s.end_date)} (inclusive, UTC)`;
    const ids = (s.conversation_ids as string[]) ?? [];
    const shown = ids.slice(0, 20).join(', ');
    return `${ids.length} conversation${ids.length === 1 ? '' : 's'} by id: ${shown}${ids.length > 20 ? ', …' : ''}`;
  } catch {
    return 'a selector that could not be read';
  }
}

/** The owners' mail about a job that ended. */
function jobMail(
  row: DeletionJobTable,
  org: { name: string; slug: string },
  requester: string,
): { subject: string; body: string } {
  const iso = (v: unknown) => (v === null || v === undefined ? '-' : new Date(Number(v)).toISOString());
  const dry = Number(row.dry_run) === 1;
  const label = (what: string) => (dry ? `${what} that would be deleted:` : `${what} deleted:`);
  const outcome =
    row.status === 'completed'
      ? dry
        ? 'dry run completed'
        : 'completed'
      : `failed (${row.error_code ?? 'error'})`;
  const lines = [
    `The conversation deletion job ${row.id} of ${org.name} (${org.slug}) has ${row.status === 'completed' ? 'completed' : 'failed'}.`,
    '',
    `Job:        ${row.id}${dry ? ' (dry run: nothing was deleted)' : ''}`,
    `Requested:  by ${requester}, at ${iso(row.submitted_at)}`,
    `Selection:  ${describeSelector(row)}`,
    `Started:    ${iso(row.started_at)}`,
    `Finished:   ${iso(row.finished_at)}`,
    '',
    `${label('Conversations')} ${Number(row.conversations_deleted)}`,
    `${label('Messages')} ${Number(row.messages_deleted)}`,
    `Conversations skipped (support chats still open): ${Number(row.conversations_skipped)}`,
  ];
  if (row.status === 'failed')
    lines.push(
      '',
      `Error: ${row.error_message ?? row.error_code ?? 'unknown'}`,
      'What it deleted before failing stays deleted.',
    );
  lines.push('', 'Each deleted conversation is recorded in the audit log (action conversation.purged).');
  return { subject: `Parley deletion job ${row.id} ${outcome}`, body: `${lines.join('\n')}\n` };
}

/** In one transaction: the job ends, its event is recorded (webhooks included) and the owners' mail queued. */
async function endJob(
  ctx: AppContext,
  worker: Worker,
  jobId: string,
  status: 'completed' | 'failed',
  failure?: { error: { code: string; message: string }; attempts: number; chunk: readonly string[] },
): Promise<boolean> {
  return inTransaction(ctx, async (tx) => {
    const row = await finishJob(tx.db, jobId, worker.id, {
      status,
      now: ctx.clock.now(),
      error: failure?.error,
      attempts: failure?.attempts,
    });
    if (!row) return false;
    // A failed job's half-deleted chunk goes to the retention purge instead of staying hidden forever.
    if (failure) await makeDueNow(tx.db, String(row.org_id), failure.chunk, ctx.clock.now());
    const orgId = String(row.org_id);
    const admins = await findOrgAdminIds(tx.db, orgId);
    const requester = row.requested_by === null ? [] : [String(row.requested_by)];
    tx.emit(orgId, [
      {
        type: status === 'completed' ? 'deletion_job.completed' : 'deletion_job.failed',
        recipients: [...requester, ...admins],
        payload: jobEventPayload(row),
      },
    ]);
    const org = (await findOrgById(tx.db, orgId)) ?? { name: orgId, slug: orgId };
    const who =
      row.requested_by === null
        ? `app ${String(row.requested_by_app)}`
        : ((await findActorsByIds(tx.db, orgId, [String(row.requested_by)]))[0]?.name ?? 'a former member');
    const mail = jobMail(row, org, who);
    const owners = await findOrgOwnerContacts(tx.db, orgId);
    await queueMail(
      ctx,
      tx.db,
      owners.map((o) => ({ orgId, to: o.email, subject: mail.subject, body: mail.body })),
    );
    return true;
  });
}

async function finishDeletionJob(ctx: AppContext, worker: Worker, jobId: string): Promise<StepResult> {
  return (await endJob(ctx, worker, jobId, 'completed')) ? 'finished' : 'lost';
}

/**
 * After a step threw: the job is released to be tried again after a back-off (30 s doubling),
 * or, after MAX_JOB_ATTEMPTS tries, ends `failed` with its event and mail. Returns whether it failed for good.
 */
export async function retryOrFailJob(
  ctx: AppContext,
  worker: Worker,
  jobId: string,
  err: unknown,
): Promise<boolean> {
  const row = await findDeletionJobById(ctx.db, jobId);
  if (!row || row.claimed_by !== worker.id) return false;
  const attempts = Number(row.attempts) + 1;
  const error = {
    code: 'job_error',
    message: (err instanceof Error ? err.message : String(err)).slice(0, 500),
  };
  if (attempts >= MAX_JOB_ATTEMPTS) {
    let chunk: string[] = [];
    try {
      chunk = row.chunk ? (JSON.parse(row.chunk) as string[]).map(String) : [];
    } catch {
      chunk = [];
    }
    return endJob(ctx, worker, jobId, 'failed', { error, attempts, chunk });
  }
  await releaseJob(ctx.db, jobId, worker.id, {
    notBefore: ctx.clock.now() + retryDelay(attempts),
    attempts,
    error,
  });
  return false;
}

/** Lets go of a job on shutdown, so another runner (or this node after a restart) continues it at once. */
export async function releaseDeletionJob(ctx: AppContext, worker: Worker, jobId: string): Promise<void> {
  await releaseJob(ctx.db, jobId, worker.id, { notBefore: ctx.clock.now() });
}
