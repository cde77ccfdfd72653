import type { Actor } from '../../domain/model.ts';
import { iso, optIso } from '../../domain/presenters.ts';
import type { TokenRow } from '../../store/repos/tokens.ts';

/** People and their tokens as the native API shows them (http/schemas/people.ts). */

export function presentActor(a: Actor) {
  return {
    id: a.id,
    kind: a.kind,
    role: a.role,
    name: a.name,
    email: a.email,
    external_id: a.externalId,
    phone: a.phone,
    ip: a.ip,
    country: a.country,
    channel: a.channel,
    active: a.active,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

export function presentToken(t: TokenRow) {
  return {
    id: t.id,
    actor_id: t.actorId,
    name: t.name,
    scopes: t.scopes,
    created_at: iso(t.createdAt),
    expires_at: optIso(t.expiresAt),
    revoked_at: optIso(t.revokedAt),
  };
}
