import Type, { type Static } from 'typebox';
import type { AppContext } from '../../context.ts';
import { createActor, deactivateActor, getActor, listActors, updateActor } from '../../services/actors.ts';
import { createAccessToken, listAccessTokens, revokeAccessToken } from '../../services/tokens.ts';
import { principalOf } from '../auth.ts';
import { presentActor, presentToken } from '../present/people.ts';
import { presentPage } from '../present.ts';
import {
  ActorCreateBody,
  type ActorFieldsSchema,
  ActorIdParams,
  ActorListQuery,
  ActorSchema,
  ActorUpdateBody,
  MeSchema,
  TokenCreateBody,
  TokenCreatedSchema,
  TokenListSchema,
} from '../schemas/people.ts';
import { commonErrors, IdempotencyHeaders, page, pageArgs, readErrors } from '../schemas.ts';
import { scopesOfBody } from '../scope-names.ts';
import { type Api, bodyId, typed } from './util.ts';

const tags = ['people'];

/** The API's snake_case actor fields -> the service's input (create and update share them). */
function toActorFields<B extends Partial<Static<typeof ActorFieldsSchema>>>(b: B) {
  return {
    name: b.name as B['name'],
    role: b.role,
    email: b.email,
    externalId: b.external_id,
    phone: b.phone,
    ip: b.ip,
    country: b.country,
    channel: b.channel,
  };
}

export function peopleRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.get(
    '/me',
    {
      config: { anyScope: true },
      schema: {
        tags,
        summary: 'Who am I: the actor and scopes of this token',
        response: {
          200: MeSchema,
          ...readErrors,
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { actor: presentActor(p.actor), org_id: p.orgId, scopes: [...p.scopes] };
    },
  );

  r.post(
    '/actors',
    {
      config: { scope: 'people:write', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Create a user, visitor or bot (org admins)',
        body: ActorCreateBody,
        response: { 201: ActorSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const actor = await createActor(ctx, principalOf(req), {
        kind: req.body.kind,
        ...toActorFields(req.body),
      });
      return reply.code(201).send(presentActor(actor));
    },
  );

  r.get(
    '/actors',
    {
      config: { scope: 'people:read' },
      schema: {
        tags,
        summary: 'List the people of the org',
        querystring: ActorListQuery,
        response: { 200: page(ActorSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listActors(ctx, principalOf(req), {
        kind: req.query.kind,
        includeInactive: req.query.include_inactive,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentActor);
    },
  );

  r.get(
    '/actors/:id',
    {
      config: { scope: 'people:read' },
      schema: {
        tags,
        summary: 'Get a person',
        params: ActorIdParams,
        response: { 200: ActorSchema, ...readErrors },
      },
    },
    async (req) => presentActor(await getActor(ctx, principalOf(req), req.params.id)),
  );

  r.patch(
    '/actors/:id',
    {
      config: { scope: 'people:write' },
      schema: {
        tags,
        summary: 'Update a person (org admins)',
        params: ActorIdParams,
        body: ActorUpdateBody,
        response: { 200: ActorSchema, ...commonErrors },
      },
    },
    async (req) => {
      const actor = await updateActor(ctx, principalOf(req), req.params.id, toActorFields(req.body));
      return presentActor(actor);
    },
  );

  r.post(
    '/actors/:id/deactivate',
    {
      config: { scope: 'people:write' },
      schema: {
        tags,
        summary: 'Deactivate a person: their tokens stop working (org admins)',
        params: ActorIdParams,
        response: { 200: ActorSchema, ...commonErrors },
      },
    },
    async (req) => presentActor(await deactivateActor(ctx, principalOf(req), req.params.id)),
  );

  r.get(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary: 'List access tokens (admins see the whole org)',
        response: { 200: TokenListSchema, ...readErrors },
      },
    },
    async (req) => ({ items: (await listAccessTokens(ctx, principalOf(req))).map(presentToken) }),
  );

  r.post(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary: 'Issue an access token; the secret is in the response only',
        body: TokenCreateBody,
        response: { 201: TokenCreatedSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { token, record } = await createAccessToken(ctx, principalOf(req), {
        name: b.name,
        scopes: scopesOfBody(b.scopes),
        actorId: b.actor_id === undefined ? undefined : bodyId(b.actor_id, 'body.actor_id'),
        expiresAt: b.expires_at,
      });
      return reply.code(201).send({ token, record: presentToken(record) });
    },
  );

  r.delete(
    '/tokens/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an access token',
        params: ActorIdParams,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await revokeAccessToken(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
