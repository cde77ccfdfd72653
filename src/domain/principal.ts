import type { Actor } from './model.ts';
import type { Scope } from './scopes.ts';

/** Who is calling: the org, the actor the credential belongs to, and what it may do. */
export interface Principal {
  orgId: string;
  actor: Actor;
  scopes: ReadonlySet<Scope>;
  tokenId: string | null;
}

export function isOrgAdmin(p: Principal): boolean {
  return p.actor.kind === 'user' && (p.actor.role === 'owner' || p.actor.role === 'admin');
}
