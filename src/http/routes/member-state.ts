import type { TSchema } from 'typebox';
import type { AppContext } from '../../context.ts';
import { presentMemberState } from '../../domain/presenters.ts';
import {
  markRead,
  muteConversation,
  setDraft,
  setHidden,
  setPinnedInList,
  unmuteConversation,
} from '../../services/member-state.ts';
import { principalOf } from '../auth.ts';
import { DraftBody, Empty, MemberStateSchema, MuteBody, ReadBody } from '../schemas/member-state.ts';
import { ConversationIdParams, commonErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/** Route options shared by every per-member state route; each answers the updated state. */
function opts(summary: string) {
  return {
    config: { scope: 'conversations:write' as const },
    schema: {
      tags: ['my state'],
      summary,
      params: ConversationIdParams,
      response: { 200: MemberStateSchema, ...commonErrors },
    },
  };
}

function withBody<B extends TSchema>(summary: string, body: B) {
  const o = opts(summary);
  return { config: o.config, schema: { ...o.schema, body } };
}

/** The caller's own per-conversation state: mute, read position, draft, hidden, pinned in list. */
export function memberStateRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const now = () => ctx.clock.now();

  r.post(
    '/conversations/:id/mute',
    withBody('Mute notifications, until a time or until unmuted', MuteBody),
    async (req) =>
      presentMemberState(await muteConversation(ctx, principalOf(req), req.params.id, req.body.until), now()),
  );

  r.post('/conversations/:id/unmute', withBody('Unmute', Empty), async (req) =>
    presentMemberState(await unmuteConversation(ctx, principalOf(req), req.params.id), now()),
  );

  r.post(
    '/conversations/:id/read',
    withBody('Mark read up to a message (default: the latest)', ReadBody),
    async (req) => {
      const id = req.body.message_id;
      const messageId = id === undefined ? undefined : bodyId(id, 'body.message_id');
      return presentMemberState(await markRead(ctx, principalOf(req), req.params.id, messageId), now());
    },
  );

  r.put(
    '/conversations/:id/draft',
    withBody('Save a draft (an empty text clears it)', DraftBody),
    async (req) =>
      presentMemberState(await setDraft(ctx, principalOf(req), req.params.id, req.body.text), now()),
  );

  r.delete('/conversations/:id/draft', opts('Clear the draft'), async (req) =>
    presentMemberState(await setDraft(ctx, principalOf(req), req.params.id, null), now()),
  );

  r.post('/conversations/:id/hide', withBody('Hide from my list until new activity', Empty), async (req) =>
    presentMemberState(await setHidden(ctx, principalOf(req), req.params.id, true), now()),
  );

  r.post('/conversations/:id/unhide', withBody('Show in my list again', Empty), async (req) =>
    presentMemberState(await setHidden(ctx, principalOf(req), req.params.id, false), now()),
  );

  r.put('/conversations/:id/pin-in-list', opts('Pin the conversation at the top of my list'), async (req) =>
    presentMemberState(await setPinnedInList(ctx, principalOf(req), req.params.id, true), now()),
  );

  r.delete(
    '/conversations/:id/pin-in-list',
    opts('Unpin the conversation from the top of my list'),
    async (req) =>
      presentMemberState(await setPinnedInList(ctx, principalOf(req), req.params.id, false), now()),
  );
}
