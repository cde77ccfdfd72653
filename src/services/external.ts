import type { AppContext } from '../context.ts';
import { NotFoundError } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import type { Principal } from '../domain/principal.ts';
import type { Scope } from '../domain/scopes.ts';
import { findActorByExternalId } from '../store/repos/actors.ts';
import { findDirectConversation } from '../store/repos/conversations.ts';
import { loadConversation } from './access.ts';

/**
 * Server-to-server calls (the signed dialect) act for a user named by the app's own user id
 * (the actor's external_id). The app's signature stands in for the user's token; the user
 * then gets exactly the rights a member has, through the same services and policies.
 */
const SERVER_SCOPES: readonly Scope[] = ['conversations:read', 'conversations:write', 'messages:read'];

/** The principal of the active actor with this external id (`user_not_found` 404). */
export async function principalForExternalUser(
  ctx: AppContext,
  orgId: string,
  externalId: string,
): Promise<Principal> {
  const actor = await findActorByExternalId(ctx.db, orgId, externalId);
  if (!actor?.active) throw new NotFoundError('user_not_found', `No user with UserId ${externalId}`);
  return { orgId, actor, scopes: new Set(SERVER_SCOPES), tokenId: null };
}

/**
 * The conversation a server call names: for a one-on-one chat, the direct chat between the
 * caller and the user `convId`; for a group, the group or channel with the Parley id `convId`.
 * Both must be visible to the caller (`conversation_not_found` 404, the same for every miss).
 */
export async function resolveExternalConversation(
  ctx: AppContext,
  p: Principal,
  kind: 'direct' | 'group',
  convId: string,
): Promise<string> {
  const miss = () => new NotFoundError('conversation_not_found', `No conversation ${convId} for this user`);
  if (kind === 'direct') {
    const other = await findActorByExternalId(ctx.db, p.orgId, convId);
    if (!other) throw miss();
    const direct = await findDirectConversation(ctx.db, p.orgId, [p.actor.id, other.id].sort().join(':'));
    if (!direct) throw miss();
    await loadConversation(ctx.db, p, direct.id).catch(() => {
      throw miss();
    });
    return direct.id;
  }
  if (!isId(convId)) throw miss();
  const { conversation } = await loadConversation(ctx.db, p, convId).catch(() => {
    throw miss();
  });
  if (conversation.kind !== 'group' && conversation.kind !== 'channel') throw miss();
  return conversation.id;
}
