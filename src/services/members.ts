import type { AppContext } from '../context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { canAddMembers, canLeave, canRemoveMember } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import {
  adjustMemberCount,
  findMember,
  findMembers,
  findOldestMember,
  insertMembers,
  listCurrentMembers,
  type MemberWithActor,
  rejoinMembers,
  updateMember,
} from '../store/repos/conversations.ts';
import { loadConversation } from './access.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { checkQuota, currentMemberCount, lockOrgForQuota } from './quotas.ts';
import { conversationAudience } from './recipients.ts';
import { inTransaction, type Tx } from './tx.ts';

/** The fields a member listing may be projected to (`fields=name,email`). */
export const MemberField = ['id', 'name', 'email', 'kind', 'role', 'external_id', 'joined_at'] as const;
export type MemberField = (typeof MemberField)[number];

/** The current members of a conversation the caller belongs to, by actor id. */
export async function listMembers(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ items: MemberWithActor[]; nextCursor: string | null }> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const after = input.cursor ? decodeCursor(input.cursor, 'members', ['id']) : undefined;
  const rows = await listCurrentMembers(ctx.db, conversation.id, {
    afterActorId: after ? String(after[0]) : undefined,
    limit: input.limit + 1,
  });
  return keysetPage(rows, input.limit, 'members', (last) => [last.member.actorId]);
}

/**
 * Adds actors to a group or channel; actors who had left rejoin. Already-current members are
 * ignored. Throws `actor_not_found` (404) for ids outside the org and policy errors (403).
 */
export async function addMembers(ctx: AppContext, p: Principal, conversationId: string, actorIds: string[]) {
  const { conversation, me } = await loadConversation(ctx.db, p, conversationId);
  authorize(canAddMembers(p, conversation, me));
  const ids = [...new Set(actorIds)];
  const actors = await findActorsByIds(ctx.db, p.orgId, ids);
  const active = new Set(actors.filter((a) => a.active).map((a) => a.id));
  const missing = ids.find((id) => !active.has(id));
  if (missing) throw new NotFoundError('actor_not_found', `Actor ${missing} not found`);
  const now = ctx.clock.now();
  await inTransaction(ctx, async (tx) => {
    // The member count is read here, after the lock, not from the conversation loaded above:
    // adds racing each other must each see the ones before them.
    await lockOrgForQuota(ctx, tx.db, p.orgId);
    const memberCount = await currentMemberCount(tx.db, conversation.id);
    const existing = await findMembers(tx.db, conversation.id, ids);
    const byId = new Map(existing.map((m) => [m.actorId, m]));
    const fresh = ids.filter((id) => !byId.has(id));
    const returning = ids.filter((id) => byId.get(id)?.leftAt != null);
    const maxMembers = ctx.config.quotas.membersPerConversation;
    const adding = fresh.length + returning.length;
    checkQuota('members_per_conversation', maxMembers, memberCount, adding, 'Too many members');
    await insertMembers(
      tx.db,
      p.orgId,
      conversation.id,
      fresh.map((actorId) => ({ actorId, role: 'member' as const })),
      now,
    );
    await rejoinMembers(tx.db, conversation.id, returning, now);
    const added = fresh.length + returning.length;
    if (added > 0) {
      await adjustMemberCount(tx.db, conversation.id, added, now);
      tx.emit(p.orgId, [
        {
          type: 'member.joined',
          conversationId: conversation.id,
          recipients: await conversationAudience(tx.db, conversation.id),
          payload: { conversation_id: conversation.id, actor_ids: [...fresh, ...returning], by: p.actor.id },
        },
      ]);
    }
  });
}

/**
 * Removes a member (`member_not_found` 404 when the actor is not a current member). Removing
 * yourself is leaving.
 */
export async function removeMember(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  actorId: string,
): Promise<void> {
  if (actorId === p.actor.id) return leaveConversation(ctx, p, conversationId);
  const { conversation, me } = await loadConversation(ctx.db, p, conversationId);
  const target = await findMember(ctx.db, conversation.id, actorId);
  if (!target || target.leftAt !== null)
    throw new NotFoundError('member_not_found', `Actor ${actorId} is not a member`);
  authorize(canRemoveMember(p, conversation, me, target));
  const now = ctx.clock.now();
  await inTransaction(ctx, async (tx) => {
    await updateMember(tx.db, conversation.id, actorId, { left_at: now, hidden: 0, pinned: 0 });
    await adjustMemberCount(tx.db, conversation.id, -1, now);
    await recordLeft(tx, p, conversation.id, actorId);
  });
}

/**
 * The caller leaves a group or channel (`cannot_leave_direct_chat` 403 for direct chats).
 * When the owner leaves, the longest-standing remaining member becomes the owner.
 */
export async function leaveConversation(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
): Promise<void> {
  const { conversation, me } = await loadConversation(ctx.db, p, conversationId);
  authorize(canLeave(conversation));
  const now = ctx.clock.now();
  await inTransaction(ctx, async (tx) => {
    await updateMember(tx.db, conversation.id, p.actor.id, {
      left_at: now,
      hidden: 0,
      pinned: 0,
      role: 'member',
    });
    await adjustMemberCount(tx.db, conversation.id, -1, now);
    if (me.role === 'owner') {
      const heir = await findOldestMember(tx.db, conversation.id);
      if (heir) await updateMember(tx.db, conversation.id, heir.actorId, { role: 'owner' });
    }
    await recordLeft(tx, p, conversation.id, p.actor.id);
  });
}

/** Parses `fields=name,email_id`-style projections; unknown names are `invalid_fields` (400). */
export function parseMemberFields(text: string | undefined): MemberField[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !(MemberField as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0) {
    throw ValidationError.field(
      'query.fields',
      `must be a comma-separated list of ${MemberField.join(', ')}`,
      'invalid_fields',
    );
  }
  return [...new Set(names)] as MemberField[];
}

/** member.left goes to the remaining members and to the one who left (their other devices). */
async function recordLeft(tx: Tx, p: Principal, conversationId: string, actorId: string) {
  tx.emit(p.orgId, [
    {
      type: 'member.left',
      conversationId,
      recipients: [...(await conversationAudience(tx.db, conversationId)), actorId],
      payload: { conversation_id: conversationId, actor_id: actorId, by: p.actor.id },
    },
  ]);
}
