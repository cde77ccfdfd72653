import {
  type DeletionJob,
  type DeletionWindow,
  formatMinutes,
  isWindowOpen,
  nextWindowOpening,
} from '../../domain/deletion-jobs.ts';
import { iso, optIso } from '../../domain/presenters.ts';

/** Deletion jobs and the off-peak window as the API shows them (http/schemas/deletion-jobs.ts). */

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

export function presentWindow(w: { window: DeletionWindow; own: boolean }, now: number) {
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
