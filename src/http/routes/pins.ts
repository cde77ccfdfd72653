import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { getPinnedMessage, pinMessage, unpinMessage } from '../../services/pins.ts';
import { principalOf } from '../auth.ts';
import { presentPin } from '../present/pins.ts';
import { PinBody, PinSchema } from '../schemas/pins.ts';
import { ConversationIdParams, commonErrors, readErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

const tags = ['pins'];

export function pinRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.put(
    '/conversations/:id/pin',
    {
      config: { scope: 'messages:write' },
      schema: {
        tags,
        summary: 'Pin a message (replaces the current pin)',
        params: ConversationIdParams,
        body: PinBody,
        response: { 200: PinSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentPin(
        await pinMessage(ctx, principalOf(req), req.params.id, {
          messageId: bodyId(req.body.message_id, 'body.message_id'),
          expiryTime: req.body.expiry_time,
          notify: req.body.notify,
        }),
      ),
  );

  r.get(
    '/conversations/:id/pin',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'Get the pinned message',
        params: ConversationIdParams,
        response: { 200: PinSchema, ...readErrors },
      },
    },
    async (req) => presentPin(await getPinnedMessage(ctx, principalOf(req), req.params.id)),
  );

  r.delete(
    '/conversations/:id/pin',
    {
      config: { scope: 'messages:write' },
      schema: {
        tags,
        summary: 'Unpin',
        params: ConversationIdParams,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await unpinMessage(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
