import type { DeletionJobTable } from '../store/schema.ts';

/** The mail the org's owners get when a deletion job ends (sent by services/deletion-runner.ts). */

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
export function jobMail(
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
