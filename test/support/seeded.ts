import { hashToken } from '../../src/auth/tokens.ts';
import type { AppContext } from '../../src/context.ts';
import type { Actor, Message } from '../../src/domain/model.ts';
import { Scope } from '../../src/domain/scopes.ts';
import { insertConversation, insertMembers } from '../../src/store/repos/conversations.ts';
import { storeNewMessage } from '../../src/store/repos/messages.ts';
import { insertToken } from '../../src/store/repos/tokens.ts';

/**
 * Seeds rows with the exact ids and tokens a vendor page's examples use, so the examples can
 * be replayed literally (ids are plain 64-bit numbers, so any example id is a valid one).
 */
export async function seedConversationWithId(
  ctx: AppContext,
  input: {
    id: string;
    orgId: string;
    kind: 'direct' | 'group' | 'channel';
    title?: string;
    members: Actor[];
    now: number;
  },
): Promise<void> {
  const directKey =
    input.kind === 'direct'
      ? input.members
          .map((m) => m.id)
          .sort()
          .join(':')
      : null;
  await insertConversation(
    ctx.db,
    {
      id: input.id,
      orgId: input.orgId,
      kind: input.kind,
      title: input.title ?? null,
      creatorId: input.members[0]!.id,
      memberCount: input.members.length,
      lastMessageId: null,
      lastActivityAt: input.now,
      createdAt: input.now,
      updatedAt: input.now,
    },
    directKey,
  );
  await insertMembers(
    ctx.db,
    input.orgId,
    input.id,
    input.members.map((m, i) => ({
      actorId: m.id,
      role: i === 0 && input.kind !== 'direct' ? ('owner' as const) : ('member' as const),
    })),
    input.now,
  );
}

export async function seedMessageWithId(
  ctx: AppContext,
  m: { id: string; orgId: string; conversationId: string; senderId: string; text: string; createdAt: number },
): Promise<void> {
  const message: Message = {
    ...m,
    type: 'text',
    metadata: null,
    replyToId: null,
    clientId: null,
    editedAt: null,
    deletedAt: null,
  };
  await storeNewMessage(ctx.db, message);
}

/** A token with a given literal secret (e.g. a vendor page's example token). */
export async function seedToken(
  ctx: AppContext,
  actor: Actor,
  secret: string,
  scopes: readonly Scope[] = Scope,
): Promise<void> {
  await insertToken(ctx.db, {
    id: ctx.ids.next(),
    orgId: actor.orgId,
    actorId: actor.id,
    name: 'seeded',
    scopes: [...scopes],
    createdAt: ctx.clock.now(),
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    hash: hashToken(secret),
  });
}
