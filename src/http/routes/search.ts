import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { ConversationKind } from '../../domain/model.ts';
import { presentMessage } from '../../domain/presenters.ts';
import { searchMessages } from '../../services/search.ts';
import { principalOf } from '../auth.ts';
import { MessageSchema } from '../schemas/messages.ts';
import { IdString, listQuery, literals, Nullable, page, readErrors } from '../schemas.ts';
import { type Api, parseTime, typed } from './util.ts';

const tags = ['search'];
const Time = (what: string) =>
  Type.String({ description: `ISO 8601 (a date, or a time with a zone) or epoch ms: ${what}` });

export const SearchResultSchema = Type.Object({
  message: MessageSchema,
  conversation: Type.Object({
    id: IdString,
    kind: literals(ConversationKind),
    title: Nullable(Type.String()),
  }),
  snippet: Type.String({
    description:
      'The text around the first hit, HTML-escaped, each matching word in <mark>…</mark> (the only markup); … where the text is cut',
  }),
});

export function searchRoutes(app: Api, ctx: AppContext): void {
  typed(app).get(
    '/search/messages',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'Search messages you can read',
        description:
          'Newest first. Every word of q must match a word of the message, or the start of one (prefix match, case and accents ignored). Quotes and operators are plain separators: q is never query syntax. Searches the conversations you are a current member of and the support chats of the departments you serve.',
        querystring: listQuery({
          q: Type.String({ minLength: 1, maxLength: 256, description: 'Words to find' }),
          conversation_id: Type.Optional(IdString),
          sender_id: Type.Optional(IdString),
          after: Type.Optional(Time('sent at or after')),
          before: Type.Optional(Time('sent before')),
          has_attachment: Type.Optional(
            Type.Boolean({
              description: 'true: only messages with attachments; false: only those without',
            }),
          ),
        }),
        response: { 200: page(SearchResultSchema), ...readErrors },
      },
    },
    async (req) => {
      const q = req.query;
      const result = await searchMessages(ctx, principalOf(req), {
        q: q.q,
        conversationId: q.conversation_id,
        senderId: q.sender_id,
        after: parseTime(q.after, 'query.after'),
        before: parseTime(q.before, 'query.before'),
        hasAttachment: q.has_attachment,
        limit: q.limit ?? 20,
        cursor: q.cursor,
      });
      return {
        items: result.items.map((r) => ({
          message: presentMessage(r.message),
          conversation: r.conversation,
          snippet: r.snippet,
        })),
        next_cursor: result.nextCursor,
      };
    },
  );
}
