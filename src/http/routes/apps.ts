import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { createApp, listOrgApps, revokeOrgApp } from '../../services/apps.ts';
import { principalOf } from '../auth.ts';
import { presentApp } from '../present/apps.ts';
import { AppSchema, CreatedAppSchema } from '../schemas/apps.ts';
import { commonErrors, IdString, readErrors } from '../schemas.ts';
import { type Api, typed } from './util.ts';

const tags = ['apps'];
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
