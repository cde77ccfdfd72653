import { randomUUID } from 'node:crypto';
import { generateInstanceToken, hashToken, isInstanceToken } from '../auth/tokens.ts';
import type { AppContext } from '../context.ts';
import { type DeletionJob, queuedJob } from '../domain/deletion-jobs.ts';
import { ConflictError, NotFoundError, UnauthenticatedError, ValidationError } from '../domain/errors.ts';
import type { Actor } from '../domain/model.ts';
import { Scope } from '../domain/scopes.ts';
import { insertDeletionJob, listDeletionJobRows, toDeletionJob } from '../store/repos/deletion-jobs.ts';
import {
  findInstanceTokenByHash,
  findOrgOwners,
  findOrgRecord,
  type InstanceTokenRecord,
  insertInstanceToken,
  listInstanceTokens,
  listOrgRecords,
  type OrgRecord,
  type OrgState,
  revokeInstanceToken,
  setOrgState,
} from '../store/repos/instance.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { createOrg } from './orgs.ts';
import { issueToken } from './tokens.ts';
import { inTransaction } from './tx.ts';

/**
 * Instance administration (docs/operations.md#instance-administration): the operator of a Parley
 * server, holding an instance-admin token from `parley admin token`, creates, lists, suspends
 * and deletes orgs and issues an org's owner token, over `/v1/instance`. An instance-admin
 * token belongs to no org and works nowhere else; org tokens do not work here.
 *
 * Org lifecycle:  active --suspend--> suspended --unsuspend--> active
 *                 active | suspended --delete--> deleting --(deletion job ends)--> gone
 */

/** Who is calling an instance route. */
export interface InstancePrincipal {
  tokenId: string;
  name: string;
}

/** Issues an instance-admin token (the CLI); the secret is returned once and stored hashed. */
export async function issueInstanceToken(
  ctx: AppContext,
  input: { name: string; expiresAt?: number | null },
): Promise<{ token: string; record: InstanceTokenRecord }> {
  const now = ctx.clock.now();
  if (input.expiresAt != null && input.expiresAt <= now)
    throw ValidationError.field('expires_at', 'must be in the future', 'invalid_expires_at');
  const token = generateInstanceToken();
  const record: InstanceTokenRecord = {
    id: ctx.ids.next(),
    name: input.name,
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await insertInstanceToken(ctx.db, { ...record, hash: hashToken(token) });
  return { token, record };
}

export function listInstanceAdminTokens(ctx: AppContext): Promise<InstanceTokenRecord[]> {
  return listInstanceTokens(ctx.db);
}

/** Revokes an instance-admin token (`token_not_found` 404 when unknown or revoked already). */
export async function revokeInstanceAdminToken(ctx: AppContext, id: string): Promise<void> {
  if (!(await revokeInstanceToken(ctx.db, id, ctx.clock.now())))
    throw new NotFoundError('token_not_found', `No live instance-admin token ${id}`);
}

/**
 * Resolves an instance-admin token. An org token is `invalid_token` (401) saying where it
 * works; unknown, revoked and expired instance tokens are `invalid_token` too. (Not cached:
 * instance routes are rare, and a revocation takes effect at once.)
 */
export async function authenticateInstanceToken(ctx: AppContext, token: string): Promise<InstancePrincipal> {
  if (!isInstanceToken(token))
    throw new UnauthenticatedError(
      'invalid_token',
      'Instance routes need an instance-admin token (parley admin token); org access tokens work on the other /v1 routes',
    );
  const record = await findInstanceTokenByHash(ctx.db, hashToken(token));
  const now = ctx.clock.now();
  if (!record || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= now))
    throw new UnauthenticatedError(
      'invalid_token',
      'The instance-admin token is invalid, expired or revoked',
    );
  return { tokenId: record.id, name: record.name };
}

/** An org as the instance administrator sees it. */
export interface OrgView {
  org: OrgRecord;
  owners: Pick<Actor, 'id' | 'name' | 'email'>[];
  /** The whole-org deletion job, while the org is being deleted. */
  deletionJob: DeletionJob | null;
}

const orgNotFound = (id: string) => new NotFoundError('org_not_found', `Org ${id} not found`);

async function orgDeletionJob(ctx: AppContext, orgId: string): Promise<DeletionJob | null> {
  const rows = await listDeletionJobRows(ctx.db, orgId, { limit: 50 });
  for (const row of rows) {
    const job = toDeletionJob(row);
    if (job.selector.kind === 'org' && !job.dryRun) return job;
  }
  return null;
}

async function viewOf(ctx: AppContext, org: OrgRecord): Promise<OrgView> {
  const owners = (await findOrgOwners(ctx.db, org.id)).map((a) => ({
    id: a.id,
    name: a.name,
    email: a.email,
  }));
  return {
    org,
    owners,
    deletionJob: org.state === 'deleting' ? await orgDeletionJob(ctx, org.id) : null,
  };
}

async function loadOrg(ctx: AppContext, id: string): Promise<OrgRecord> {
  const org = await findOrgRecord(ctx.db, id);
  if (!org) throw orgNotFound(id);
  return org;
}

export async function getInstanceOrg(ctx: AppContext, id: string): Promise<OrgView> {
  return viewOf(ctx, await loadOrg(ctx, id));
}

/** Orgs in id order, optionally of one state (`invalid_cursor` 400). */
export async function listInstanceOrgs(
  ctx: AppContext,
  input: { state?: OrgState | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: OrgView[]; nextCursor: string | null }> {
  const after = input.cursor ? String(decodeCursor(input.cursor, 'orgs', ['id'])[0]) : undefined;
  const rows = await listOrgRecords(ctx.db, { afterId: after, state: input.state, limit: input.limit + 1 });
  const page = keysetPage(rows, input.limit, 'orgs', (last) => [last.id]);
  const items: OrgView[] = [];
  for (const org of page.items) items.push(await viewOf(ctx, org));
  return { items, nextCursor: page.nextCursor };
}

/** Creates an org and its owner (`invalid_slug` 400, `slug_taken` 409); no token yet (see issueOwnerToken). */
export async function createInstanceOrg(
  ctx: AppContext,
  input: { slug: string; name?: string | undefined; ownerEmail: string; ownerName?: string | undefined },
): Promise<OrgView> {
  const { org } = await createOrg(ctx, {
    slug: input.slug,
    name: input.name ?? input.slug,
    ownerEmail: input.ownerEmail,
    ownerName: input.ownerName ?? input.ownerEmail,
  });
  return getInstanceOrg(ctx, org.id);
}

/**
 * Issues an access token for the org's owner (the first owner by id when there are several):
 * how a new tenant gets in, or an owner who lost every token gets back in. All scopes unless
 * `scopes` says fewer. Refused for an org that is not active (`org_not_active` 409).
 */
export async function issueOwnerToken(
  ctx: AppContext,
  orgId: string,
  input: { name?: string | undefined; scopes?: Scope[] | undefined; expiresAt?: number | undefined },
) {
  const view = await getInstanceOrg(ctx, orgId);
  if (view.org.state !== 'active')
    throw new ConflictError('org_not_active', `Org ${orgId} is ${view.org.state}; unsuspend it first`, {
      state: view.org.state,
    });
  const owner = view.owners[0];
  if (!owner) throw new ConflictError('org_has_no_owner', `Org ${orgId} has no active owner`);
  const { token, record } = await issueToken(ctx, {
    orgId,
    actorId: owner.id,
    name: input.name ?? 'owner',
    scopes: input.scopes ?? [...Scope],
    expiresAt: input.expiresAt ?? null,
  });
  return { token, record, owner };
}

/**
 * Suspends an org: its tokens and apps are refused (`org_suspended` 403) from now on, on every
 * node (the `org.suspended` event makes each node forget the org's cached tokens and close its
 * sockets). Suspending a suspended org changes nothing; a deleting one is `org_deleting` 409.
 */
export async function suspendOrg(ctx: AppContext, id: string): Promise<OrgView> {
  const org = await loadOrg(ctx, id);
  if (org.state === 'deleting') throw deleting(id);
  if (org.state === 'active') {
    await inTransaction(ctx, async (tx) => {
      if (await setOrgState(tx.db, id, ['active'], 'suspended', ctx.clock.now()))
        tx.emit(id, [{ type: 'org.suspended', recipients: [], payload: { org_id: id } }]);
    });
    ctx.principals.forget({ orgId: id });
  }
  return getInstanceOrg(ctx, id);
}

const deleting = (id: string) =>
  new ConflictError('org_deleting', `Org ${id} is being deleted; it cannot change state`);

/** Lets a suspended org's tokens work again (`org_deleting` 409 for an org being deleted; an active org is left as it is). */
export async function unsuspendOrg(ctx: AppContext, id: string): Promise<OrgView> {
  const org = await loadOrg(ctx, id);
  if (org.state === 'deleting') throw deleting(id);
  if (org.state === 'suspended') await setOrgState(ctx.db, id, ['suspended'], 'active', ctx.clock.now());
  return getInstanceOrg(ctx, id);
}

/**
 * Deletes an org through the erasure path: in one transaction the org becomes `deleting` (its
 * tokens are refused, its sockets close) and a deletion job covering the whole org is queued;
 * the job runner purges every conversation as any deletion job does, then deletes the org row
 * and with it everything else of the org. Answers the job (202). Asking again while the job is
 * queued or running answers the same job; a failed job is replaced by a new one.
 */
export async function deleteInstanceOrg(
  ctx: AppContext,
  id: string,
): Promise<{ job: DeletionJob; org: OrgRecord }> {
  const org = await loadOrg(ctx, id);
  const existing = org.state === 'deleting' ? await orgDeletionJob(ctx, id) : null;
  if (existing && (existing.status === 'queued' || existing.status === 'running'))
    return { job: existing, org };
  const now = ctx.clock.now();
  const job = queuedJob({
    id: `cdj-${randomUUID()}`,
    orgId: id,
    requestedBy: null,
    requestedByApp: null,
    selector: { kind: 'org' },
    dryRun: false,
    notBefore: now,
    submittedAt: now,
  });
  await inTransaction(ctx, async (tx) => {
    const moved = await setOrgState(tx.db, id, ['active', 'suspended', 'deleting'], 'deleting', now);
    if (!moved) throw orgNotFound(id);
    await insertDeletionJob(tx.db, job);
    tx.emitAudited(id, null, [
      {
        event: { type: 'org.suspended', recipients: [], payload: { org_id: id } },
        audit: {
          action: 'deletion_job.created',
          targetType: 'deletion_job',
          targetId: job.id,
          details: { org: true, by: 'instance_admin' },
        },
      },
    ]);
  });
  ctx.principals.forget({ orgId: id });
  return { job, org: { ...org, state: 'deleting', stateChangedAt: now } };
}
