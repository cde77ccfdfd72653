import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { POLICY_BOUNDS } from '../../domain/rate-limits.ts';
import { rateLimitStatus, setRatePolicy } from '../../services/rate-limits.ts';
import { principalOf } from '../auth.ts';
import { presentRateState } from '../present/rate-limits.ts';
import { GroupParams, PolicySchema, StateSchema } from '../schemas/rate-limits.ts';
import { commonErrors, readErrors } from '../schemas.ts';
import { type Api, typed } from './util.ts';

const tags = ['rate limits'];
/** Rate limits: the caller's state in each group, and the org's policies (admins set them). */
export function rateLimitRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.get(
    '/rate-limits',
    {
      config: { anyScope: true },
      schema: {
        tags,
        summary: "The caller's rate-limit state in every group limited per user, with the org's policies",
        response: { 200: Type.Object({ items: Type.Array(StateSchema) }), ...readErrors },
      },
    },
    async (req) => {
      const states = await rateLimitStatus(ctx, ctx.rateLimits, principalOf(req));
      const now = Date.now();
      return { items: states.map((s) => presentRateState(s, now)) };
    },
  );

  r.put(
    '/rate-limits/:group',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Set the org's policy for a route group (org admins)",
        params: GroupParams,
        body: Type.Object(
          {
            points: Type.Integer({ minimum: POLICY_BOUNDS.points.min, maximum: POLICY_BOUNDS.points.max }),
            duration_s: Type.Integer({
              minimum: POLICY_BOUNDS.durationSec.min,
              maximum: POLICY_BOUNDS.durationSec.max,
            }),
            block_s: Type.Integer({
              minimum: POLICY_BOUNDS.blockSec.min,
              maximum: POLICY_BOUNDS.blockSec.max,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: PolicySchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body;
      const p = await setRatePolicy(ctx, ctx.rateLimits, principalOf(req), req.params.group, {
        points: b.points,
        durationSec: b.duration_s,
        blockSec: b.block_s,
      });
      return { points: p.points, duration_s: p.durationSec, block_s: p.blockSec };
    },
  );

  r.delete(
    '/rate-limits/:group',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Reset the org's policy for a route group to the default (org admins)",
        params: GroupParams,
        response: { 200: PolicySchema, ...commonErrors },
      },
    },
    async (req) => {
      const p = await setRatePolicy(ctx, ctx.rateLimits, principalOf(req), req.params.group, null);
      return { points: p.points, duration_s: p.durationSec, block_s: p.blockSec };
    },
  );
}
