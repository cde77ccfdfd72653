import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { createApp, listOrgApps, revokeOrgApp } from '../../services/apps.ts';
import type { AppRecord } from '../../store/repos/apps.ts';
import { principalOf } from '../auth.ts';
import { commonErrors, IdString, Nullable, readErrors, Timestamp } from '../schemas.ts';
import { type Api, typed } from './util.ts';

const tags = ['apps'];
const AppSchema = Type.Object({
  id: IdString,
  app_id: Type.Integer({ description: 'The public AppId of the signed server dialect (/compat/zim)' }),
  name: Type.String(),
  created_at: Timestamp,
  revoked_at: Nullable(Timestamp),
});
const CreatedAppSchema = Type.Object({
  ...AppSchema.properties,
  server_secret: Type.String({ description: 'Shown only in this response' }),
});

function presentApp(a: AppRecord) {
  return {
    id: a.id,
    app_id: a.appId,
    name: a.name,
    created_at: new Date(a.createdAt).toISOString(),
    revoked_at: a.revokedAt === null ? null : new Date(a.revokedAt).toISOString(),
  };
}

/** API apps (AppId + ServerSecret) for the signed server dialect; org admins only. */
export function appRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.post(
    '/apps',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Create an app: its AppId and ServerSecret sign /compat/zim requests',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 201: CreatedAppSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const made = await createApp(ctx, principalOf(req), req.body.name);
      return reply.code(201).send({ ...presentApp(made), server_secret: made.serverSecret });
    },
  );

  r.get(
    '/apps',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "List the org's apps",
        response: { 200: Type.Object({ items: Type.Array(AppSchema) }), ...readErrors },
      },
    },
    async (req) => ({ items: (await listOrgApps(ctx, principalOf(req))).map(presentApp) }),
  );

  r.delete(
    '/apps/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Revoke an app: its signatures stop being accepted',
        params: Type.Object({ id: IdString }),
        response: { 200: AppSchema, ...commonErrors },
      },
    },
    async (req) => presentApp(await revokeOrgApp(ctx, principalOf(req), req.params.id)),
  );
}
