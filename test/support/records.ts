import type { Actor, UserRole } from '../../src/domain/model.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { Scope } from '../../src/domain/scopes.ts';

/**
 * Plain records for unit tests of policies and presenters (no database): an actor of org '1'
 * named after its id. Users are members unless `role` says otherwise; other kinds have no role.
 */
export function fakeActor(
  id: string,
  kind: Actor['kind'] = 'user',
  role: UserRole | null = kind === 'user' ? 'member' : null,
  over: Partial<Actor> = {},
): Actor {
  return {
    id,
    orgId: '1',
    kind,
    role,
    name: id,
    email: null,
    externalId: null,
    phone: null,
    ip: null,
    country: null,
    channel: null,
    active: true,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

/** A principal with every scope for `actor` (in its own org unless `orgId` says otherwise). */
export function fakePrincipal(actor: Actor, orgId = actor.orgId): Principal {
  return { orgId, actor, scopes: new Set(Scope), tokenId: null };
}
