import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import {
  addMembers,
  leaveConversation,
  listMembers,
  MemberField,
  parseMemberFields,
  removeMember,
} from '../../services/members.ts';
import { principalOf } from '../auth.ts';
import { presentMember } from '../present/members.ts';
import { presentPage } from '../present.ts';
import { MemberIdParams, MemberListQuery, MemberSchema, MembersAddBody } from '../schemas/members.ts';
import { ConversationIdParams, commonErrors, page, pageArgs, readErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

const tags = ['members'];

export function memberRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.get(
    '/conversations/:id/members',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags,
        summary: 'List the current members',
        description: `fields projects each member to a comma-separated subset of: ${MemberField.join(', ')}.`,
        params: ConversationIdParams,
        querystring: MemberListQuery,
        response: { 200: page(MemberSchema), ...readErrors },
      },
    },
    async (req) => {
      const fields = parseMemberFields(req.query.fields);
      const result = await listMembers(ctx, principalOf(req), req.params.id, pageArgs(req.query));
      return presentPage(result, (m) => presentMember(m, fields));
    },
  );

  r.post(
    '/conversations/:id/members',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Add members to a group or channel',
        params: ConversationIdParams,
        body: MembersAddBody,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      const ids = req.body.actor_ids.map((v, i) => bodyId(v, `body.actor_ids.${i}`));
      await addMembers(ctx, principalOf(req), req.params.id, ids);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/conversations/:id/members/:actorId',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Remove a member (removing yourself is leaving)',
        params: MemberIdParams,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await removeMember(ctx, principalOf(req), req.params.id, req.params.actorId);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/conversations/:id/leave',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Leave a group or channel (not allowed for direct chats)',
        params: ConversationIdParams,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await leaveConversation(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
