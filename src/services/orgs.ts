import type { AppContext } from '../context.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import type { Actor, Org } from '../domain/model.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { insertActor } from '../store/repos/actors.ts';
import { findOrgBySlug, insertOrg } from '../store/repos/orgs.ts';
import { inTransaction } from './tx.ts';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * Creates an org and its owner in one transaction (`invalid_slug` 400, `slug_taken` 409).
 * Used by `parley org create` and the demo seed.
 */
export async function createOrg(
  ctx: AppContext,
  input: { slug: string; name: string; ownerName: string; ownerEmail: string },
): Promise<{ org: Org; owner: Actor }> {
  if (!SLUG_PATTERN.test(input.slug)) {
    throw ValidationError.field('slug', 'must be 2-63 lowercase letters, digits or dashes', 'invalid_slug');
  }
  const now = ctx.clock.now();
  const org: Org = { id: ctx.ids.next(), slug: input.slug, name: input.name, createdAt: now };
  const owner: Actor = {
    id: ctx.ids.next(),
    orgId: org.id,
    kind: 'user',
    role: 'owner',
    name: input.ownerName,
    email: input.ownerEmail,
    externalId: null,
    phone: null,
    ip: null,
    country: null,
    channel: null,
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await inTransaction(ctx, async (tx) => {
      await insertOrg(tx.db, org);
      await insertActor(tx.db, owner);
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('slug_taken', `An org with slug ${input.slug} exists already`);
    throw err;
  }
  return { org, owner };
}

export function getOrgBySlug(ctx: AppContext, slug: string): Promise<Org | undefined> {
  return findOrgBySlug(ctx.db, slug);
}
