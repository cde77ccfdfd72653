import Type from 'typebox';
import { extractBearer } from '../../auth/bearer.ts';
import type { AppContext } from '../../context.ts';
import { iso, optIso } from '../../domain/presenters.ts';
import {
  authenticateInstanceToken,
  createInstanceOrg,
  deleteInstanceOrg,
  getInstanceOrg,
  type InstancePrincipal,
  issueOwnerToken,
  listInstanceOrgs,
  type OrgView,
  suspendOrg,
  unsuspendOrg,
} from '../../services/instance-admin.ts';
import type { OrgRecord } from '../../store/repos/instance.ts';
import { assertAcceptsJson } from '../content.ts';
import { presentDeletionJob } from '../present/deletion-jobs.ts';
import { presentToken } from '../present/people.ts';
import { DeletionJobSchema } from '../schemas/deletion-jobs.ts';
import { TokenSchema } from '../schemas/people.ts';
import {
  Cursor,
  commonErrors,
  IdString,
  Limit,
  literals,
  MAX_EPOCH_MS,
  Nullable,
  page,
  pageArgs,
  readErrors,
  Timestamp,
} from '../schemas.ts';
import { ScopeNames, scopesOfBody } from '../scope-names.ts';
import { type Api, typed } from './util.ts';

/**
 * `/v1/instance`: org administration by the instance administrator (services/instance-admin.ts).
 * Its own plugin with its own credential: an instance-admin token (`parley admin token`), checked
 * by the hook below; org access tokens are refused here, and instance-admin tokens on every
 * other route (services/tokens.ts).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An instance-administration route: needs an instance-admin token, not an org token. */
    instance?: boolean;
  }
  interface FastifyRequest {
    instanceAdmin: InstancePrincipal | null;
  }
}

const OrgState = ['active', 'suspended', 'deleting'] as const;

const OrgSchema = Type.Object({
  id: IdString,
  slug: Type.String(),
  name: Type.String(),
  state: literals(OrgState),
  created_at: Timestamp,
  state_changed_at: Nullable(Timestamp),
  owners: Type.Array(Type.Object({ id: IdString, name: Type.String(), email: Nullable(Type.String()) })),
  deletion_job: Nullable(DeletionJobSchema),
});

function presentOrgRecord(org: OrgRecord) {
  return {
    id: org.id,
    slug: org.slug,
    name: org.name,
    state: org.state,
    created_at: iso(org.createdAt),
    state_changed_at: optIso(org.stateChangedAt),
  };
}

function presentOrg(v: OrgView) {
  return {
    ...presentOrgRecord(v.org),
    owners: v.owners,
    deletion_job: v.deletionJob ? presentDeletionJob(v.deletionJob) : null,
  };
}

const OrgIdParams = Type.Object({ id: IdString });
const security = [{ instanceAdmin: [] }];
const tags = ['instance'];
const config = { instance: true } as const;

export function instanceRoutes(app: Api, ctx: AppContext): void {
  if (!app.hasRequestDecorator('instanceAdmin')) app.decorateRequest('instanceAdmin', null);
  app.addHook('onRequest', async (request) => {
    request.instanceAdmin = await authenticateInstanceToken(
      ctx,
      extractBearer(request.headers.authorization),
    );
    assertAcceptsJson(request);
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'DELETE')
      request.body = {};
  });
  const r = typed(app);

  r.get(
    '/orgs',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'List the orgs of this server (instance administrators)',
        querystring: Type.Object({
          state: Type.Optional(literals(OrgState)),
          limit: Type.Optional(Limit),
          cursor: Type.Optional(Cursor),
        }),
        response: { 200: page(OrgSchema), ...readErrors },
      },
    },
    async (req) => {
      const { items, nextCursor } = await listInstanceOrgs(ctx, {
        state: req.query.state,
        ...pageArgs(req.query),
      });
      return { items: items.map(presentOrg), next_cursor: nextCursor };
    },
  );

  r.post(
    '/orgs',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Create an org and its owner (instance administrators)',
        description:
          'The owner gets no token here: issue one with POST /v1/instance/orgs/{id}/owner-token. `slug_taken` (409) when the slug is used.',
        body: Type.Object(
          {
            slug: Type.String({
              minLength: 1,
              maxLength: 63,
              description: '2-63 lowercase letters, digits or dashes',
            }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            owner_email: Type.String({ minLength: 3, maxLength: 320, format: 'email' }),
            owner_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: OrgSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const view = await createInstanceOrg(ctx, {
        slug: b.slug,
        name: b.name,
        ownerEmail: b.owner_email,
        ownerName: b.owner_name,
      });
      return reply.code(201).send(presentOrg(view));
    },
  );

  r.get(
    '/orgs/:id',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'One org, with its owners and, while it is being deleted, its deletion job',
        params: OrgIdParams,
        response: { 200: OrgSchema, ...readErrors },
      },
    },
    async (req) => presentOrg(await getInstanceOrg(ctx, req.params.id)),
  );

  r.post(
    '/orgs/:id/suspend',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Suspend an org: its tokens and apps are refused (403 org_suspended) and its sockets closed',
        params: OrgIdParams,
        response: { 200: OrgSchema, ...commonErrors },
      },
    },
    async (req) => presentOrg(await suspendOrg(ctx, req.params.id)),
  );

  r.post(
    '/orgs/:id/unsuspend',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Unsuspend an org: its tokens work again',
        params: OrgIdParams,
        response: { 200: OrgSchema, ...commonErrors },
      },
    },
    async (req) => presentOrg(await unsuspendOrg(ctx, req.params.id)),
  );

  r.delete(
    '/orgs/:id',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Delete an org through the erasure path, as a deletion job (202)',
        description:
          'The org is refused at once (403 org_deleted for its tokens) and a deletion job covering the whole org is queued; it purges every conversation, then the org with everything else of it. Follow it with GET /v1/instance/orgs/{id} (404 once the org is gone, the job with it).',
        params: OrgIdParams,
        response: {
          202: Type.Object({ org: OrgSchema, job: DeletionJobSchema }),
          ...commonErrors,
        },
      },
    },
    async (req, reply) => {
      const { job, org } = await deleteInstanceOrg(ctx, req.params.id);
      const view = { org, owners: [], deletionJob: job };
      return reply.code(202).send({ org: presentOrg(view), job: presentDeletionJob(job) });
    },
  );

  r.post(
    '/orgs/:id/owner-token',
    {
      config,
      schema: {
        tags,
        security,
        summary: "Issue an access token for the org's owner (the first one, or a lost one)",
        description:
          'For the first owner of the org (by id). Every scope unless `scopes` names fewer. The secret is in the response only. `org_not_active` (409) for a suspended or deleting org.',
        params: OrgIdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            scopes: Type.Optional(ScopeNames),
            expires_at: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_EPOCH_MS, description: 'Epoch ms' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            token: Type.String(),
            record: TokenSchema,
            owner: Type.Object({ id: IdString, name: Type.String(), email: Nullable(Type.String()) }),
          }),
          ...commonErrors,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { token, record, owner } = await issueOwnerToken(ctx, req.params.id, {
        name: b.name,
        scopes: b.scopes === undefined ? undefined : scopesOfBody(b.scopes),
        expiresAt: b.expires_at,
      });
      return reply.code(201).send({ token, record: presentToken(record), owner });
    },
  );
}
