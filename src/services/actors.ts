import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Actor, ActorKind, UserRole, VisitorChannel } from '../domain/model.ts';
import { canManageActors } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import { isUniqueViolation } from '../store/errors.ts';
import {
  findActor,
  insertActor,
  listActors as listActorRows,
  updateActor as updateActorRow,
} from '../store/repos/actors.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { countActiveActors, withinQuota } from './quotas.ts';
import { inTransaction } from './tx.ts';

export interface ActorInput {
  kind: ActorKind;
  name: string;
  role?: UserRole | undefined;
  email?: string | null | undefined;
  externalId?: string | null | undefined;
  phone?: string | null | undefined;
  ip?: string | null | undefined;
  country?: string | null | undefined;
  channel?: VisitorChannel | null | undefined;
}

function checkShape(kind: ActorKind, role: UserRole | null | undefined, channel: unknown): void {
  if (kind === 'user' && !role)
    throw ValidationError.field('body.role', 'is required for a user', 'invalid_role');
  if (kind !== 'user' && role) throw ValidationError.field('body.role', 'is only for users', 'invalid_role');
  if (kind !== 'visitor' && channel)
    throw ValidationError.field('body.channel', 'is only for visitors', 'invalid_channel');
}

function duplicate(err: unknown): never {
  if (isUniqueViolation(err))
    throw new ConflictError('external_id_taken', 'Another actor in this org has this external_id');
  throw err;
}

/** Creates a user, visitor or bot (org admins only: `admin_role_required` 403; `external_id_taken` 409). */
export async function createActor(ctx: AppContext, p: Principal, input: ActorInput): Promise<Actor> {
  authorize(canManageActors(p));
  checkShape(input.kind, input.role, input.channel);
  if (input.role === 'owner' && p.actor.role !== 'owner') {
    throw new ValidationError('invalid_role', 'Only the owner can make another owner', [
      { path: 'body.role', problem: 'owner requires an owner' },
    ]);
  }
  const now = ctx.clock.now();
  const actor: Actor = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    kind: input.kind,
    role: input.kind === 'user' ? (input.role ?? 'member') : null,
    name: input.name,
    email: input.email ?? null,
    externalId: input.externalId ?? null,
    phone: input.phone ?? null,
    ip: input.ip ?? null,
    country: input.country ?? null,
    channel: input.channel ?? null,
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  await withinQuota(
    ctx,
    p.orgId,
    {
      quota: 'actors',
      limit: ctx.config.quotas.actors,
      adding: 1,
      what: 'The org has as many actors as it may',
      count: (tx) => countActiveActors(tx.db, p.orgId),
    },
    (tx) => insertActor(tx.db, actor).catch(duplicate),
  );
  return actor;
}

/** Any member of the org may look people up (`actor_not_found` 404 outside the org). */
export async function getActor(ctx: AppContext, p: Principal, id: string): Promise<Actor> {
  const actor = await findActor(ctx.db, p.orgId, id);
  if (!actor) throw new NotFoundError('actor_not_found', `Actor ${id} not found`);
  return actor;
}

export async function listActors(
  ctx: AppContext,
  p: Principal,
  input: {
    kind?: ActorKind | undefined;
    limit: number;
    cursor?: string | undefined;
    includeInactive?: boolean | undefined;
  },
): Promise<{ items: Actor[]; nextCursor: string | null }> {
  const after = input.cursor ? decodeCursor(input.cursor, 'actors', ['id']) : undefined;
  const rows = await listActorRows(ctx.db, p.orgId, {
    kind: input.kind,
    afterId: after ? String(after[0]) : undefined,
    limit: input.limit + 1,
    includeInactive: input.includeInactive ?? false,
  });
  return keysetPage(rows, input.limit, 'actors', (last) => [last.id]);
}

export type ActorPatch = Partial<Omit<ActorInput, 'kind'>>;

/** Updates an actor (org admins only); the owner's role can only be changed by an owner. */
export async function updateActor(
  ctx: AppContext,
  p: Principal,
  id: string,
  patch: ActorPatch,
): Promise<Actor> {
  authorize(canManageActors(p));
  const actor = await getActor(ctx, p, id);
  if (patch.role !== undefined) checkShape(actor.kind, patch.role, undefined);
  if (patch.channel !== undefined && patch.channel !== null) checkShape(actor.kind, undefined, patch.channel);
  if (
    (actor.role === 'owner' || patch.role === 'owner') &&
    p.actor.role !== 'owner' &&
    patch.role !== undefined
  ) {
    throw new ValidationError('invalid_role', 'Only the owner can change ownership', [
      { path: 'body.role', problem: 'owner requires an owner' },
    ]);
  }
  const updated = await updateActorRow(ctx.db, p.orgId, id, patch, ctx.clock.now()).catch(duplicate);
  ctx.principals.forget({ actorId: id });
  return updated!;
}

/** Deactivates an actor: their tokens stop working and they can no longer be added to chats. */
export async function deactivateActor(ctx: AppContext, p: Principal, id: string): Promise<Actor> {
  authorize(canManageActors(p));
  const actor = await getActor(ctx, p, id);
  if (actor.role === 'owner')
    throw new ConflictError('cannot_deactivate_owner', 'The owner cannot be deactivated');
  ctx.principals.forget({ actorId: id });
  return inTransaction(ctx, async (tx) => {
    const updated = (await updateActorRow(tx.db, p.orgId, id, { active: false }, ctx.clock.now()))!;
    // Every node's gateway closes the actor's sockets.
    tx.emit(p.orgId, [{ type: 'actor.deactivated', recipients: [id], payload: { actor_id: id } }]);
    return updated;
  });
}
