import type { DeletionJob } from '../../domain/deletion-jobs.ts';
import { iso, optIso } from '../../domain/presenters.ts';

/** Deletion jobs in the bot vendor's shapes (pure). */

/** The seed's answer to a delete call: the job only queued. */
export function presentQueued(job: DeletionJob) {
  return {
    status: 'queued' as const,
    jobId: job.id,
    message: job.dryRun
      ? 'Dry-run deletion job queued successfully. Nothing will be deleted; the bot owner will be notified by email on completion.'
      : 'Deletion job queued successfully. The bot owner will be notified by email on completion.',
    submittedAt: iso(job.submittedAt),
  };
}

const MESSAGES = {
  queued: 'Deletion job is queued; it runs during off-peak hours.',
  running: 'Deletion job is running.',
  completed: 'Deletion job completed. The bot owner has been notified by email.',
  failed: 'Deletion job failed. The bot owner has been notified by email.',
  cancelled: 'Deletion job was cancelled before it started.',
} as const;

/** The job status answer (Parley's design, in the vendor's style: camelCase, ISO times). */
export function presentStatus(job: DeletionJob) {
  const s = job.selector;
  return {
    jobId: job.id,
    status: job.status,
    message: MESSAGES[job.status],
    dryRun: job.dryRun,
    submittedAt: iso(job.submittedAt),
    startedAt: optIso(job.startedAt),
    finishedAt: optIso(job.finishedAt),
    request:
      s.kind === 'conversations'
        ? { conversationIds: s.conversationIds }
        : s.kind === 'org'
          ? {}
          : { cId: s.customerId, startDate: s.startDate, endDate: s.endDate },
    progress: {
      totalConversations: job.conversationsTotal,
      processedConversations: job.counts.conversationsDeleted + job.counts.conversationsSkipped,
    },
    deleted: { conversations: job.counts.conversationsDeleted, messages: job.counts.messagesDeleted },
    skipped: { conversations: job.counts.conversationsSkipped },
    error: job.status === 'failed' && job.error ? { msg: job.error.message, code: job.error.code } : null,
  };
}
