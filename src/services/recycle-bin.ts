import type { AppContext } from '../context.ts';
import type { Actor, Department, SupportChat, VisitorChannel } from '../domain/model.ts';
import { canReadConversation } from '../domain/policies/access.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canDeleteChat, canManageSupport } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import { isClosed, purgeTime, supportSettingsFrom } from '../domain/support.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import { findOrgSettings } from '../store/repos/orgs.ts';
import {
  type DeletionCandidate,
  deleteMessagesBatch,
  eraseFreedSpace,
  findDeletionCandidates,
  findDuePurges,
  listBin,
  markDueForPurge,
  moveToBin,
  type PurgedConversation,
  purgeDue,
  restoreFromBin,
} from '../store/repos/recycle-bin.ts';
import { findCurrentMemberIdsOf, findDepartmentsByIds } from '../store/repos/support.ts';
import { sweepAttachments } from './attachments.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { inTransaction, type Tx } from './tx.ts';

/**
 * The recycle bin. Deleting moves closed support chats into it; there they are invisible to
 * every list, read and dialect (services/access.ts and the repos filter `deleted_at`), until an
 * admin restores or purges them, or the retention purge removes them for good. Every move is
 * recorded in the audit log, which a purge never touches.
 */

/** At most this many ids per bulk request. */
export const MAX_BULK_IDS = 100;

/** The answer for one id of a bulk request: done, or refused with a reason code. */
export type BulkOutcome = { id: string; ok: true } | { id: string; ok: false; code: string; message: string };

const notFound = (id: string): BulkOutcome => ({
  id,
  ok: false,
  code: 'conversation_not_found',
  message: `Conversation ${id} not found`,
});

/** Whether the principal may see this conversation at all (a bulk `checkAccess`). */
function canSee(p: Principal, c: DeletionCandidate): boolean {
  return canReadConversation(p, { orgId: p.orgId, kind: c.kind, visitorId: c.visitorId }, c.isMember);
}

/** Why one candidate may not be deleted, or null when it may. */
function refusal(
  p: Principal,
  c: DeletionCandidate,
  channel: VisitorChannel | undefined,
): BulkOutcome | null {
  if (c.kind !== 'support')
    return { id: c.id, ok: false, code: 'not_a_support_chat', message: 'Only support chats can be deleted' };
  if (c.state === null || !isClosed(c.state))
    return {
      id: c.id,
      ok: false,
      code: 'chat_not_closed',
      message: 'Only closed chats (ended or missed) can be deleted',
    };
  const decision = canDeleteChat(p, c);
  if (!decision.allowed) return { id: c.id, ok: false, code: decision.reason, message: decision.message };
  if (channel !== undefined && c.channel !== channel)
    return {
      id: c.id,
      ok: false,
      code: 'channel_mismatch',
      message: `The chat did not come from the ${channel} channel`,
    };
  return null;
}

const dedupe = (ids: readonly string[]) => [...new Set(ids)];

/**
 * Moves conversations to the recycle bin, per id: closed support chats (ended or missed) that
 * the caller may delete (admins, or the operator who owns or attends the chat) are moved;
 * every other id is refused with a reason (`conversation_not_found` for ids the caller cannot
 * see, `not_a_support_chat`, `chat_not_closed`, `not_chat_owner`, `operator_role_required`,
 * `channel_mismatch` when `channel` is given and the chat came from another). Two queries find
 * and check all ids; one compare-and-set moves the allowed ones, with their events and audit
 * records in the same transaction. Their purge time is now plus the org's retention.
 */
export async function deleteConversations(
  ctx: AppContext,
  p: Principal,
  input: { ids: readonly string[]; channel?: VisitorChannel | undefined },
): Promise<BulkOutcome[]> {
  const ids = dedupe(input.ids);
  const candidates = new Map(
    (await findDeletionCandidates(ctx.db, p.orgId, p.actor.id, ids)).map((c) => [c.id, c]),
  );
  const outcomes = new Map<string, BulkOutcome>();
  const allowed: string[] = [];
  for (const id of ids) {
    const c = candidates.get(id);
    if (!c || !canSee(p, c)) outcomes.set(id, notFound(id));
    else {
      const refused = refusal(p, c, input.channel);
      if (refused) outcomes.set(id, refused);
      else allowed.push(id);
    }
  }
  if (allowed.length > 0) {
    const settings = supportSettingsFrom(await findOrgSettings(ctx.db, p.orgId));
    const now = ctx.clock.now();
    const moved = await inTransaction(ctx, async (tx) => {
      const rows = await moveToBin(tx.db, p.orgId, allowed, {
        now,
        purgeAt: purgeTime(now, settings),
        deletedBy: p.actor.id,
      });
      await recordBinAction(tx, p, rows, 'support.deleted', 'conversation.deleted', (c) => ({
        payload: { purge_at: c.purgeAt },
        details: { state: c.state, purge_at: c.purgeAt },
      }));
      return new Set(rows.map((c) => c.id));
    });
    // An id that was allowed but not moved was deleted by a concurrent request.
    for (const id of allowed) outcomes.set(id, moved.has(id) ? { id, ok: true } : notFound(id));
  }
  return ids.map((id) => outcomes.get(id)!);
}

/**
 * Records what a bin action did to each of `rows`: its event (to the conversation's members and
 * the actor) and its audit entry (by the actor), both naming the conversation and its reference.
 */
async function recordBinAction(
  tx: Tx,
  p: Principal,
  rows: readonly SupportChat[],
  type: 'support.deleted' | 'support.restored',
  action: 'conversation.deleted' | 'conversation.restored',
  facts: (c: SupportChat) => { payload: Record<string, unknown>; details: Record<string, unknown> },
): Promise<void> {
  const members = await findCurrentMemberIdsOf(
    tx.db,
    rows.map((c) => c.id),
  );
  tx.emitAudited(
    p.orgId,
    p.actor.id,
    rows.map((c) => {
      const { payload, details } = facts(c);
      return {
        event: {
          type,
          conversationId: c.id,
          recipients: [...(members.get(c.id) ?? []), p.actor.id],
          payload: { conversation_id: c.id, reference_id: c.referenceId, ...payload },
        },
        audit: { action, details: { reference_id: c.referenceId, ...details } },
      };
    }),
  );
}

export interface BinItem {
  chat: SupportChat;
  department: Department | null;
  visitor: Actor | null;
  deletedBy: Actor | null;
}

/**
 * The org's recycle bin, most recently deleted first (owners and admins: `admin_role_required`
 * 403; `invalid_cursor` 400). Conversations whose purge is due are no longer listed.
 */
export async function listRecycleBin(
  ctx: AppContext,
  p: Principal,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ items: BinItem[]; nextCursor: string | null }> {
  authorize(canManageSupport(p));
  const after = input.cursor ? decodeCursor(input.cursor, 'recycle-bin', ['int', 'id']) : undefined;
  const rows = await listBin(ctx.db, p.orgId, {
    now: ctx.clock.now(),
    after: after ? { deletedAt: Number(after[0]), id: String(after[1]) } : undefined,
    limit: input.limit + 1,
  });
  const { items: page, nextCursor } = keysetPage(rows, input.limit, 'recycle-bin', (last) => [
    last.deletedAt ?? 0,
    last.id,
  ]);
  const actorIds = page.flatMap((c) => [c.visitorId, c.deletedBy]).filter((v): v is string => v !== null);
  const actors = new Map((await findActorsByIds(ctx.db, p.orgId, dedupe(actorIds))).map((a) => [a.id, a]));
  const departments = new Map(
    (await findDepartmentsByIds(ctx.db, p.orgId, dedupe(page.map((c) => c.departmentId)))).map((d) => [
      d.id,
      d,
    ]),
  );
  return {
    items: page.map((chat) => ({
      chat,
      department: departments.get(chat.departmentId) ?? null,
      visitor: actors.get(chat.visitorId) ?? null,
      deletedBy: chat.deletedBy ? (actors.get(chat.deletedBy) ?? null) : null,
    })),
    nextCursor,
  };
}

/**
 * Takes conversations out of the bin, per id (owners and admins: `admin_role_required` 403).
 * Ids not in the org's bin, or already due for purging, answer `conversation_not_found`.
 */
export async function restoreConversations(
  ctx: AppContext,
  p: Principal,
  rawIds: readonly string[],
): Promise<BulkOutcome[]> {
  authorize(canManageSupport(p));
  const ids = dedupe(rawIds);
  const now = ctx.clock.now();
  const restored = await inTransaction(ctx, async (tx) => {
    const rows = await restoreFromBin(tx.db, p.orgId, ids, now);
    await recordBinAction(tx, p, rows, 'support.restored', 'conversation.restored', (c) => ({
      payload: { state: c.state },
      details: {},
    }));
    return new Set(rows.map((c) => c.id));
  });
  return ids.map((id) => (restored.has(id) ? { id, ok: true } : notFound(id)));
}

const MESSAGE_BATCH = 1000;
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Purges conversations that are due (`purge_at <= now`, so nothing can restore them any more):
 * first their messages in bounded batches, each its own short statement, then in one
 * transaction their events, pin, remaining messages, members and the conversation rows, with
 * an audit record per conversation. Another node purging the same rows is skipped, not waited for.
 */
async function purgeChunk(
  ctx: AppContext,
  ids: readonly string[],
  actorId: string | null,
  reason: 'retention' | 'admin',
): Promise<PurgedConversation[]> {
  while ((await deleteMessagesBatch(ctx.db, ids, MESSAGE_BATCH)) >= MESSAGE_BATCH) await yieldToOthers();
  const purged = await inTransaction(ctx, async (tx) => {
    const purged = await purgeDue(tx.db, ids, ctx.clock.now(), ctx.caps.skipLocked);
    for (const orgId of new Set(purged.map((c) => c.orgId))) {
      tx.audit(
        purged
          .filter((c) => c.orgId === orgId)
          .map((c) => ({
            orgId,
            actorId,
            action: 'conversation.purged' as const,
            targetId: c.id,
            details: {
              reason,
              reference_id: c.referenceId,
              kind: c.kind,
              deleted_at: c.deletedAt,
              deleted_by: c.deletedBy,
            },
          })),
      );
    }
    return purged;
  });
  if (purged.length > 0) await eraseAfterPurge(ctx);
  return purged;
}

const vacuums = new WeakMap<AppContext, { running: Promise<void>; again: boolean }>();

/**
 * After a purge has committed: what the database files still hold of the purged rows goes too
 * (store/repos/recycle-bin.ts eraseFreedSpace; docs/security.md#erasure). On SQLite that is a
 * log checkpoint, done before this resolves. On PostgreSQL it is a VACUUM, started in the
 * background so no request waits for it; purges during one run it once more afterwards.
 */
export async function eraseAfterPurge(ctx: AppContext): Promise<void> {
  // The files of purged messages go from storage (disk or S3) as well.
  await sweepAttachments(ctx);
  if (ctx.caps.freedSpace === 'checkpoint') {
    await eraseFreedSpace(ctx.db, 'checkpoint');
    return;
  }
  const current = vacuums.get(ctx);
  if (current) {
    current.again = true;
    return;
  }
  const state = { running: Promise.resolve(), again: true };
  vacuums.set(ctx, state);
  state.running = (async () => {
    while (state.again) {
      state.again = false;
      await eraseFreedSpace(ctx.db, 'vacuum').catch((err: unknown) =>
        process.emitWarning(`VACUUM after a purge: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    vacuums.delete(ctx);
  })();
}

/** Resolves when the background VACUUM started by eraseAfterPurge (if any) has finished. */
export async function erasureSettled(ctx: AppContext): Promise<void> {
  await vacuums.get(ctx)?.running;
}

/**
 * Purges conversations from the bin at once, per id (owners and admins: `admin_role_required`
 * 403). Ids not in the org's bin answer `conversation_not_found`. Nothing of a purged
 * conversation is left but its audit records.
 */
export async function purgeConversations(
  ctx: AppContext,
  p: Principal,
  rawIds: readonly string[],
): Promise<BulkOutcome[]> {
  authorize(canManageSupport(p));
  const ids = dedupe(rawIds);
  const now = ctx.clock.now();
  const due = await markDueForPurge(ctx.db, p.orgId, ids, now);
  const purged = new Set((await purgeChunk(ctx, due, p.actor.id, 'admin')).map((c) => c.id));
  return ids.map((id) => (purged.has(id) ? { id, ok: true } : notFound(id)));
}

/**
 * Periodic: purges every conversation whose retention has run out, `chunk` conversations per
 * transaction, yielding to live requests between chunks. Safe to run on several nodes at once
 * (rows another node holds are skipped). Returns how many it purged.
 */
export async function purgeExpired(ctx: AppContext, opts: { chunk?: number } = {}): Promise<number> {
  const chunk = opts.chunk ?? 100;
  const skipped = new Set<string>();
  let total = 0;
  for (;;) {
    const due = (await findDuePurges(ctx.db, ctx.clock.now(), chunk + skipped.size))
      .filter((id) => !skipped.has(id))
      .slice(0, chunk);
    if (due.length === 0) break;
    const purged = new Set((await purgeChunk(ctx, due, null, 'retention')).map((c) => c.id));
    total += purged.size;
    for (const id of due) if (!purged.has(id)) skipped.add(id);
    await yieldToOthers();
  }
  return total;
}
