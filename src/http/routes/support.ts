import Type, { type Static } from 'typebox';
import type { AppContext } from '../../context.ts';
import { VisitorChannel } from '../../domain/model.ts';
import { AuditAction, listAudit } from '../../services/audit.ts';
import {
  createDepartment,
  getDepartment,
  listDepartments,
  setDepartmentOperators,
} from '../../services/departments.ts';
import {
  deleteConversations,
  listRecycleBin,
  purgeConversations,
  restoreConversations,
} from '../../services/recycle-bin.ts';
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
import {
  presentAuditEvent,
  presentBinItem,
  presentBulk,
  presentDepartment,
  presentSettings,
  presentSupportChat,
} from '../present/support.ts';
import { presentPage } from '../present.ts';
import {
  AuditEventSchema,
  BinItemSchema,
  BulkBody,
  BulkIds,
  BulkResult,
  DepartmentSchema,
  Empty,
  IdParams,
  PageQuery,
  SettingsSchema,
  SupportChatSchema,
} from '../schemas/support.ts';
import {
  commonErrors,
  IdempotencyHeaders,
  IdInput,
  IdString,
  listQuery,
  literals,
  page,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/** Live support (departments, the queue, pickup, transfer, end), the recycle bin and the audit log. */

const bulkIds = (ids: (string | number)[]) => ids.map((v, i) => bodyId(v, `body.ids.${i}`));

/** The native routes of live support, the recycle bin and the audit log (registered under /v1). */
export function supportRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const departments = ['departments'];
  const support = ['support'];
  const bin = ['recycle bin'];

  r.post(
    '/departments',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags: departments,
        headers: IdempotencyHeaders,
        summary: 'Create a department (org owners and admins)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 201: DepartmentSchema, ...commonErrors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(presentDepartment(await createDepartment(ctx, principalOf(req), req.body.name))),
  );

  r.get(
    '/departments',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: departments,
        summary: "List the org's departments with their operators",
        querystring: PageQuery,
        response: { 200: page(DepartmentSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listDepartments(ctx, principalOf(req), {
        ...pageArgs(req.query),
      });
      return presentPage(result, presentDepartment);
    },
  );

  r.get(
    '/departments/:id',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: departments,
        summary: 'Get a department',
        params: IdParams,
        response: { 200: DepartmentSchema, ...readErrors },
      },
    },
    async (req) => presentDepartment(await getDepartment(ctx, principalOf(req), req.params.id)),
  );

  r.put(
    '/departments/:id/operators',
    {
      config: { scope: 'admin' },
      schema: {
        tags: departments,
        summary: "Set a department's operators (org owners and admins)",
        description:
          'Replaces the list. Operators with departments see and pick up only those chats; operators without any serve every department.',
        params: IdParams,
        body: Type.Object(
          { operator_ids: Type.Array(IdInput, { maxItems: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: DepartmentSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentDepartment(
        await setDepartmentOperators(
          ctx,
          principalOf(req),
          req.params.id,
          req.body.operator_ids.map((v, i) => bodyId(v, `body.operator_ids.${i}`)),
        ),
      ),
  );

  r.post(
    '/support/chats',
    {
      config: { scope: 'support:write', idempotent: true },
      schema: {
        tags: support,
        headers: IdempotencyHeaders,
        summary: 'Start a support chat: it waits in the department queue',
        description:
          'A visitor starts their own chat (no visitor_id); an operator or admin starts one on behalf of visitor_id. A visitor has at most one open chat per department (409 visitor_has_open_chat).',
        body: Type.Object(
          {
            department_id: IdInput,
            question: Type.String({ minLength: 1, maxLength: 2000 }),
            visitor_id: Type.Optional(IdInput),
            uvid: Type.Optional(
              Type.String({ minLength: 1, maxLength: 128, description: "The visitor's tracking id" }),
            ),
            channel: Type.Optional(literals(VisitorChannel)),
          },
          { additionalProperties: false },
        ),
        response: { 201: SupportChatSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const view = await startSupportChat(ctx, principalOf(req), {
        departmentId: bodyId(b.department_id, 'body.department_id'),
        question: b.question,
        visitorId: b.visitor_id === undefined ? undefined : bodyId(b.visitor_id, 'body.visitor_id'),
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
        tags: support,
        summary: 'The waiting chats of your departments, oldest first',
        querystring: listQuery({
          department_id: Type.Optional(IdString),
        }),
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
        tags: support,
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
        tags: support,
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
        tags: support,
        summary: 'Transfer a chat to another operator, or a waiting chat to another department',
        description:
          'operator_id: a connected chat gets a new attender (department_id may re-file it too). department_id alone: a waiting chat moves to that queue.',
        params: IdParams,
        body: Type.Object(
          { operator_id: Type.Optional(IdInput), department_id: Type.Optional(IdInput) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SupportChatSchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body;
      return presentSupportChat(
        await transferChat(ctx, principalOf(req), req.params.id, {
          operatorId: b.operator_id === undefined ? undefined : bodyId(b.operator_id, 'body.operator_id'),
          departmentId:
            b.department_id === undefined ? undefined : bodyId(b.department_id, 'body.department_id'),
        }),
      );
    },
  );

  r.post(
    '/support/chats/:id/end',
    {
      config: { scope: 'support:write' },
      schema: {
        tags: support,
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
        tags: support,
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
        tags: support,
        summary: 'Change the support settings (org owners and admins)',
        description: 'A new recycle_bin_days also moves the purge time of conversations already in the bin.',
        body: Type.Partial(SettingsSchema, { additionalProperties: false, minProperties: 1 }),
        response: { 200: SettingsSchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body as Partial<Static<typeof SettingsSchema>>;
      return presentSettings(
        await updateSupportSettings(ctx, principalOf(req), {
          recycleBinDays: b.recycle_bin_days,
          missedAfterSeconds: b.missed_after_seconds,
        }),
      );
    },
  );

  r.post(
    '/conversations/delete',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: bin,
        summary: 'Move closed support chats to the recycle bin',
        description:
          'Per id: closed (ended or missed) support chats you may delete are moved; every other id is refused with a reason code (chat_not_closed, not_a_support_chat, conversation_not_found, ...). channel keeps only chats that came from that channel.',
        body: Type.Object(
          { ids: BulkIds, channel: Type.Optional(literals(VisitorChannel)) },
          { additionalProperties: false },
        ),
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) =>
      presentBulk(
        await deleteConversations(ctx, principalOf(req), {
          ids: bulkIds(req.body.ids),
          channel: req.body.channel,
        }),
      ),
  );

  r.get(
    '/recycle-bin',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags: bin,
        summary: 'The recycle bin, most recently deleted first (org owners and admins)',
        querystring: PageQuery,
        response: { 200: page(BinItemSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listRecycleBin(ctx, principalOf(req), {
        ...pageArgs(req.query),
      });
      return presentPage(result, presentBinItem);
    },
  );

  r.post(
    '/recycle-bin/restore',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: bin,
        summary: 'Restore conversations from the recycle bin (org owners and admins)',
        body: BulkBody,
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) => presentBulk(await restoreConversations(ctx, principalOf(req), bulkIds(req.body.ids))),
  );

  r.post(
    '/recycle-bin/purge',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: bin,
        summary: 'Purge conversations from the recycle bin for good, now (org owners and admins)',
        description: 'Removes their messages, members, pin and events; only the audit records remain.',
        body: BulkBody,
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) => presentBulk(await purgeConversations(ctx, principalOf(req), bulkIds(req.body.ids))),
  );

  r.get(
    '/audit-events',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (org owners and admins)',
        querystring: listQuery({
          action: Type.Optional(literals(AuditAction)),
          target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 200: page(AuditEventSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listAudit(ctx, principalOf(req), {
        action: req.query.action,
        targetId: req.query.target_id,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentAuditEvent);
    },
  );
}
