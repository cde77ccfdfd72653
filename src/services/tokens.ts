import { generateToken, hashToken, isInstanceToken } from '../auth/tokens.ts';
import type { AppContext } from '../context.ts';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../domain/errors.ts';
import { canIssueTokenFor, canSeeAllTokens } from '../domain/policies/admin.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import type { Scope } from '../domain/scopes.ts';
import { findActor } from '../store/repos/actors.ts';
import { findOrgState } from '../store/repos/instance.ts';
import {
  findTokenByHash,
  insertToken,
  listTokens,
  revokeToken,
  revokeTokensNamed,
  type TokenRow,
} from '../store/repos/tokens.ts';
import { countLiveTokens, withinQuota } from './quotas.ts';
import { inTransaction } from './tx.ts';

/**
 * Issues a token for an actor of the org. The secret is returned once and stored hashed.
 * `replaceNamed` revokes the actor's earlier tokens of the same name (the demo token).
 */
export async function issueToken(
  ctx: AppContext,
  input: {
    orgId: string;
    actorId: string;
    name: string;
    scopes: Scope[];
    expiresAt?: number | null;
    replaceNamed?: boolean;
  },
): Promise<{ token: string; record: TokenRow }> {
  const actor = await findActor(ctx.db, input.orgId, input.actorId);
  if (!actor) throw new NotFoundError('actor_not_found', `Actor ${input.actorId} not found`);
  if (input.scopes.length === 0)
    throw ValidationError.field('body.scopes', 'must name at least one scope', 'invalid_scopes');
  const now = ctx.clock.now();
  if (input.expiresAt != null && input.expiresAt <= now) {
    throw ValidationError.field('body.expires_at', 'must be in the future', 'invalid_expires_at');
  }
  const token = generateToken();
  const record: TokenRow = {
    id: ctx.ids.next(),
    orgId: input.orgId,
    actorId: actor.id,
    name: input.name,
    scopes: input.scopes,
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    lastUsedAt: null,
  };
  // Counted in the write's transaction; a replacing issue (the demo token) takes no new room,
  // and revokes its namesakes in the same transaction as it inserts.
  await withinQuota(
    ctx,
    input.orgId,
    {
      quota: 'tokens_per_actor',
      limit: ctx.config.quotas.tokensPerActor,
      adding: input.replaceNamed ? 0 : 1,
      what: 'This actor has as many tokens as it may',
      count: (tx) => countLiveTokens(tx.db, input.orgId, actor.id, now),
    },
    async (tx) => {
      if (input.replaceNamed) await revokeTokensNamed(tx.db, input.orgId, input.actorId, input.name, now);
      await insertToken(tx.db, { ...record, hash: hashToken(token) });
    },
  );
  return { token, record };
}

/**
 * Resolves a bearer token to a principal. Unknown, revoked and expired tokens, and tokens of
 * deactivated actors, all answer `invalid_token` (401); an instance-admin token too, saying so.
 * Tokens of a suspended org answer `org_suspended` (403), of an org being deleted `org_deleted`.
 */
export async function authenticateToken(ctx: AppContext, token: string): Promise<Principal> {
  if (isInstanceToken(token))
    throw new UnauthenticatedError(
      'invalid_token',
      'This is an instance-admin token: it is accepted only on /v1/instance routes',
    );
  const hash = hashToken(token);
  const now = ctx.clock.now();
  const cached = ctx.principals.get(hash, now);
  if (cached) return cached;
  const record = await findTokenByHash(ctx.db, hash);
  if (!record || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= now)) {
    throw new UnauthenticatedError('invalid_token', 'The access token is invalid, expired or revoked');
  }
  const actor = await findActor(ctx.db, record.orgId, record.actorId);
  if (!actor?.active)
    throw new UnauthenticatedError('invalid_token', 'The access token is invalid, expired or revoked');
  assertOrgActive(await findOrgState(ctx.db, record.orgId));
  const principal: Principal = {
    orgId: record.orgId,
    actor,
    scopes: new Set(record.scopes as Scope[]),
    tokenId: record.id,
  };
  ctx.principals.set(
    hash,
    principal,
    Math.min(now + PRINCIPAL_CACHE_MS, record.expiresAt ?? Number.MAX_SAFE_INTEGER),
  );
  return principal;
}

import { PrincipalCache } from '../auth/principal-cache.ts';

export { PrincipalCache };

/** How long a node reuses a resolved token before reading it again. */
export const PRINCIPAL_CACHE_MS = 5_000;

/** Tokens an admin can see: all of the org's; anyone else sees their own. */
export async function listAccessTokens(ctx: AppContext, p: Principal): Promise<TokenRow[]> {
  return listTokens(ctx.db, p.orgId, canSeeAllTokens(p) ? undefined : p.actor.id);
}

/** Creates a token through the API: for yourself, or (admins) for anyone in the org; never wider than your own. */
export async function createAccessToken(
  ctx: AppContext,
  p: Principal,
  input: {
    actorId?: string | undefined;
    name: string;
    scopes: Scope[];
    expiresAt?: number | null | undefined;
  },
) {
  const actorId = input.actorId ?? p.actor.id;
  authorize(canIssueTokenFor(p, actorId));
  const wider = input.scopes.find((s) => !p.scopes.has(s));
  if (wider)
    throw new ForbiddenError('scope_not_held', `You cannot grant the scope ${wider}, which your token lacks`);
  return issueToken(ctx, {
    orgId: p.orgId,
    actorId,
    name: input.name,
    scopes: input.scopes,
    expiresAt: input.expiresAt ?? null,
  });
}

/** Revokes a token (`token_not_found` 404); its sockets close when the realtime gateway sees it. */
export async function revokeAccessToken(ctx: AppContext, p: Principal, id: string): Promise<void> {
  const token = (await listTokens(ctx.db, p.orgId, canSeeAllTokens(p) ? undefined : p.actor.id)).find(
    (t) => t.id === id,
  );
  if (!token) throw new NotFoundError('token_not_found', `Token ${id} not found`);
  ctx.principals.forget({ tokenId: id });
  await inTransaction(ctx, async (tx) => {
    await revokeToken(tx.db, p.orgId, id, ctx.clock.now());
    // Every node's gateway closes the sockets opened with this token.
    tx.emit(p.orgId, [{ type: 'token.revoked', recipients: [token.actorId], payload: { token_id: id } }]);
  });
}

/** A suspended org's tokens are refused (403) with a code that says why; so are a deleted org's. */
export function assertOrgActive(state: string | undefined): void {
  if (state === 'suspended')
    throw new ForbiddenError(
      'org_suspended',
      'This org is suspended: its tokens are refused until the instance administrator unsuspends it',
    );
  if (state === 'deleting')
    throw new ForbiddenError('org_deleted', 'This org is being deleted: its tokens no longer work');
}
