import { randomUUID } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import {
  type DeletionJob,
  type DeletionWindow,
  dateRangeBounds,
  isWindowOpen,
  MAX_JOB_ATTEMPTS,
  nextWindowOpening,
} from '../domain/deletion-jobs.ts';
import { isOpenChat } from '../domain/support.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import {
  checkpointLog,
  claimJob,
  countMessagesOf,
  countTargets,
  findClaimableJobs,
  findDeletionJobById,
  findOrgAdminIds,
  findOrgOwnerContacts,
  finishJob,
  hideForJob,
  makeDueNow,
  nextTargets,
  recordJobProgress,
  releaseJob,
  type TargetSpec,
  toDeletionJob,
} from '../store/repos/deletion-jobs.ts';
import { deleteOrgRow, vacuumAll } from '../store/repos/instance.ts';
import { findOrgById } from '../store/repos/orgs.ts';
import { deleteMessagesBatch, purgeDue } from '../store/repos/recycle-bin.ts';
import { deleteDeliveriesOfConversations } from '../store/repos/webhooks.ts';
import type { DeletionJobTable } from '../store/schema.ts';
import { orgWindow } from './deletion-jobs.ts';
import { jobMail } from './deletion-mail.ts';
import { queueMail } from './mail.ts';
import { eraseAfterPurge } from './recycle-bin.ts';
import { inOwnTransaction, inTransaction, type Tx } from './tx.ts';

/**
 * The deletion-job runner's side (services/deletion-jobs.ts queues the jobs; jobs/runner.ts
 * schedules and paces them): claim a job, run it one step at a time, end it (its event and the
 * owners' mail), retry or fail it after an error, release it on shutdown. A step is one of
 * these phases, each a named function below:
 *
 *   plan      count what the selector matches (progress total)
 *   select    take the next chunk of conversations after the cursor and hide them
 *             (invisible to everyone, out of the recycle bin) in one transaction
 *   delete    delete the chunk's messages, DELETION_BATCH_SIZE per transaction
 *   purge     purge the chunk exactly as the recycle bin does (events, pin, members, the rows),
 *             with an audit record per conversation
 *   finish    completed, with its event and the owners' mail, in one transaction (a whole
 *             org's deletion erases the org row instead)
 *
 * Every step commits its progress (counts, cursor, chunk) in the transaction of its deletes,
 * after checking the runner still holds the job, so a process killed at any point resumes
 * exactly where it stopped and the counts stay exact. A dry run does plan and select only,
 * counting instead of hiding, and runs at once (it deletes nothing).
 */

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

/** Whether a stored selector is a whole org's (see DeletionSelector). */
function isOrgSelector(json: string): boolean {
  try {
    return (JSON.parse(json) as { kind?: unknown }).kind === 'org';
  } catch {
    return false;
  }
}

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

/** What every phase of one step works with. */
interface JobStep {
  ctx: AppContext;
  worker: Worker;
  job: DeletionJob;
  spec: TargetSpec;
  /**
   * Runs fn in the step's own transaction (not the group commit's: a job must not share a commit
   * with live traffic); 'lost' when the runner no longer holds the job (rolled back).
   */
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T | 'lost'>;
  /** Records the step's progress in its transaction, or throws LostClaimError when the claim is gone. */
  progress(tx: Db, change: Parameters<typeof recordJobProgress>[4]): Promise<void>;
}

const moreUnlessLost = (result: unknown): StepResult => (result === 'lost' ? 'lost' : 'more');

async function step(ctx: AppContext, worker: Worker, jobId: string): Promise<StepResult> {
  const row = await findDeletionJobById(ctx.db, jobId);
  if (row?.status !== 'running' || row.claimed_by !== worker.id) return 'lost';
  const job = toDeletionJob(row);
  if (await pausedOutsideWindow(ctx, worker, job)) return 'paused';
  const s: JobStep = {
    ctx,
    worker,
    job,
    spec: targetSpec(job),
    run: async (fn) => {
      try {
        return await inOwnTransaction(ctx, fn);
      } catch (err) {
        if (err instanceof LostClaimError) return 'lost';
        throw err;
      }
    },
    progress: async (tx, change) => {
      if (!(await recordJobProgress(tx, job.id, worker.id, ctx.clock.now(), change)))
        throw new LostClaimError(job.id);
    },
  };

  if (job.conversationsTotal === null) return planPhase(s);
  const chunk = row.chunk ? (JSON.parse(row.chunk) as string[]) : null;
  if (chunk && chunk.length > 0) {
    const deleted = await deletePhase(s, chunk);
    return deleted === 'chunk_empty' ? purgePhase(s, chunk) : deleted;
  }
  const targets = await nextTargets(
    ctx.db,
    job.orgId,
    s.spec,
    row.cursor === null ? null : String(row.cursor),
    ctx.config.deletionChunkSize,
  );
  if (targets.length > 0) return selectPhase(s, targets);
  if (job.selector.kind !== 'org' || job.dryRun) return finishDeletionJob(ctx, worker, job.id);
  return eraseOrgPhase(s);
}

/**
 * Outside the org's off-peak window the job is released until the window opens again. A dry
 * run, and a whole org's deletion (its tokens are refused already), do not wait for it.
 */
async function pausedOutsideWindow(ctx: AppContext, worker: Worker, job: DeletionJob): Promise<boolean> {
  if (job.dryRun || job.selector.kind === 'org') return false;
  const now = ctx.clock.now();
  const { window } = await orgWindow(ctx, job.orgId);
  if (isWindowOpen(window, now)) return false;
  await releaseJob(ctx.db, job.id, worker.id, { notBefore: nextWindowOpening(window, now) });
  return true;
}

/** plan: count what the selector matches, the progress total. */
async function planPhase(s: JobStep): Promise<StepResult> {
  const total = await countTargets(s.ctx.db, s.job.orgId, s.spec);
  return moreUnlessLost(await s.run((tx) => s.progress(tx.db, { conversationsTotal: total })));
}

/** delete: one batch of the chunk's messages; 'chunk_empty' when the batch was the last. */
async function deletePhase(s: JobStep, chunk: string[]): Promise<StepResult | 'chunk_empty'> {
  const batch = s.ctx.config.deletionBatchSize;
  const deleted = await s.run(async (tx) => {
    const n = await deleteMessagesBatch(tx.db, chunk, batch);
    await s.progress(tx.db, { addMessagesDeleted: n });
    return n;
  });
  if (deleted === 'lost') return 'lost';
  return deleted >= batch ? 'more' : 'chunk_empty';
}

/** purge: the chunk goes exactly as the recycle bin purges, one audit record per conversation. */
async function purgePhase(s: JobStep, chunk: string[]): Promise<StepResult> {
  const { ctx, job } = s;
  const purged = await s.run(async (tx) => {
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
    await s.progress(tx.db, {
      addConversationsDeleted: gone.length,
      addMessagesDeleted: stragglers,
      chunk: null,
    });
  });
  if (purged !== 'lost') await eraseAfterPurge(ctx);
  return moreUnlessLost(purged);
}

/**
 * select: the next targets after the cursor become the chunk, hidden in one transaction (a dry
 * run counts them instead). Open support chats are skipped, except in a whole org's deletion
 * (the org is suspended: nobody is in them).
 */
async function selectPhase(
  s: JobStep,
  targets: Awaited<ReturnType<typeof nextTargets>>,
): Promise<StepResult> {
  const { ctx, job } = s;
  const eligible = targets
    .filter((c) => job.selector.kind === 'org' || !isOpenChat(c.state))
    .map((c) => c.id);
  const skipped = targets.length - eligible.length;
  const cursor = targets.at(-1)!.id;
  const selected = await s.run(async (tx) => {
    if (job.dryRun) {
      const messages = await countMessagesOf(tx.db, eligible);
      await s.progress(tx.db, {
        cursor,
        addConversationsDeleted: eligible.length,
        addMessagesDeleted: messages,
        addConversationsSkipped: skipped,
      });
      return;
    }
    await hideForJob(tx.db, job.orgId, eligible, { now: ctx.clock.now(), deletedBy: job.requestedBy });
    await s.progress(tx.db, {
      cursor,
      chunk: eligible.length > 0 ? eligible : null,
      addConversationsSkipped: skipped,
    });
  });
  return moreUnlessLost(selected);
}

/** The last step of a whole org's deletion: the org row and, by cascade, all that is left of it. */
async function eraseOrgPhase(s: JobStep): Promise<StepResult> {
  const { ctx, job } = s;
  const erased = await s.run(async (tx) => {
    await s.progress(tx.db, {});
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
