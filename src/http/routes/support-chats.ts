import type { AppContext } from '../../context.ts';
import {
  endChat,
  getSupportChat,
  getSupportSettings,
  listQueue,
  pickUpChat,
  startSupportChat,
  transferChat,
  updateSupportSettings,
} from '../../services/support.ts';
import { principalOf } from '../auth.ts';
import { presentSettings, presentSupportChat } from '../present/support.ts';
import { presentPage } from '../present.ts';
import {
  Empty,
  IdParams,
  QueueQuery,
  type SettingsPatch,
  SettingsPatchBody,
  SettingsSchema,
  SupportChatSchema,
  SupportChatStartBody,
  TransferBody,
} from '../schemas/support.ts';
import { commonErrors, IdempotencyHeaders, page, pageArgs, readErrors } from '../schemas.ts';
import { type Api, bodyId, optBodyId, typed } from './util.ts';

/** The native routes of live support chats (start, the queue, pickup, transfer, end) and the support settings (under /v1). */
export function supportChatRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['support'];

  r.post(
    '/support/chats',
    {
      config: { scope: 'support:write', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Start a support chat: it waits in the department queue',
        description:
          'A visitor starts their own chat (no visitor_id); an operator or admin starts one on behalf of visitor_id. A visitor has at most one open chat per department (409 visitor_has_open_chat).',
        body: SupportChatStartBody,
        response: { 201: SupportChatSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const view = await startSupportChat(ctx, principalOf(req), {
        departmentId: bodyId(b.department_id, 'body.department_id'),
        question: b.question,
        visitorId: optBodyId(b.visitor_id, 'body.visitor_id'),
        uvid: b.uvid,
        channel: b.channel,
      });
      return reply.code(201).send(presentSupportChat(view));
    },
  );

  r.get(
    '/support/queue',
    {
      config: { scope: 'support:read' },
      schema: {
        tags,
        summary: 'The waiting chats of your departments, oldest first',
        querystring: QueueQuery,
        response: { 200: page(SupportChatSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listQueue(ctx, principalOf(req), {
        departmentId: req.query.department_id,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentSupportChat);
    },
  );

  r.get(
    '/support/chats/:id',
    {
      config: { scope: 'support:read' },
      schema: {
        tags,
        summary: 'Get a support chat (staff, or its visitor)',
        params: IdParams,
        response: { 200: SupportChatSchema, ...readErrors },
      },
    },
    async (req) => presentSupportChat(await getSupportChat(ctx, principalOf(req), req.params.id)),
  );

  r.post(
    '/support/chats/:id/pickup',
    {
      config: { scope: 'support:write' },
      schema: {
        tags,
        summary: 'Pick up a waiting chat: you become its owner and attender',
        description:
          'Exactly one of any number of concurrent pickups wins; the others get 409 chat_not_waiting with details.owner naming who has it.',
        params: IdParams,
        body: Empty,
        response: { 200: SupportChatSchema, ...commonErrors },
      },
    },
    async (req) => presentSupportChat(await pickUpChat(ctx, principalOf(req), req.params.id)),
  );

  r.post(
    '/support/chats/:id/transfer',
    {
      config: { scope: 'support:write' },
      schema: {
        tags,
        summary: 'Transfer a chat to another operator, or a waiting chat to another department',
        description:
          'operator_id: a connected chat gets a new attender (department_id may re-file it too). department_id alone: a waiting chat moves to that queue.',
        params: IdParams,
        body: TransferBody,
        response: { 200: SupportChatSchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body;
      return presentSupportChat(
        await transferChat(ctx, principalOf(req), req.params.id, {
          operatorId: optBodyId(b.operator_id, 'body.operator_id'),
          departmentId: optBodyId(b.department_id, 'body.department_id'),
        }),
      );
    },
  );

  r.post(
    '/support/chats/:id/end',
    {
      config: { scope: 'support:write' },
      schema: {
        tags,
        summary: 'End a waiting or connected chat',
        params: IdParams,
        body: Empty,
        response: { 200: SupportChatSchema, ...commonErrors },
      },
    },
    async (req) => presentSupportChat(await endChat(ctx, principalOf(req), req.params.id)),
  );

  r.get(
    '/support/settings',
    {
      config: { scope: 'support:read' },
      schema: {
        tags,
        summary: "The org's support settings",
        response: { 200: SettingsSchema, ...readErrors },
      },
    },
    async (req) => presentSettings(await getSupportSettings(ctx, principalOf(req))),
  );

  r.patch(
    '/support/settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Change the support settings (org owners and admins)',
        description: 'A new recycle_bin_days also moves the purge time of conversations already in the bin.',
        body: SettingsPatchBody,
        response: { 200: SettingsSchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body as SettingsPatch;
      return presentSettings(
        await updateSupportSettings(ctx, principalOf(req), {
          recycleBinDays: b.recycle_bin_days,
          missedAfterSeconds: b.missed_after_seconds,
        }),
      );
    },
  );
}
