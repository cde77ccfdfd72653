import type { AppContext } from '../context.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Message } from '../domain/model.ts';
import { servedDepartments } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import { highlight, searchTerms } from '../domain/search.ts';
import { type SearchHit, searchMessages as searchRows } from '../store/repos/search.ts';
import { findOperatorDepartmentIds } from '../store/repos/support.ts';
import { decodeCursor, keysetPage } from './cursor.ts';

export interface SearchInput {
  q: string;
  conversationId?: string | undefined;
  senderId?: string | undefined;
  /** created_at >= after, created_at < before (epoch ms). */
  after?: number | undefined;
  before?: number | undefined;
  /** true: only messages with attachments; false: only those without. */
  hasAttachment?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface SearchResult {
  message: Message;
  conversation: SearchHit['conversation'];
  /** HTML-escaped text around the first hit, the hits in `<mark>`. */
  snippet: string;
}

/**
 * Searches the messages the caller may read now, newest first: those of conversations the
 * caller is a current member of (not in the recycle bin), and the support chats of the
 * departments the caller serves (support policy `servedDepartments`, as the queue). Deleted
 * messages are never found (their text is gone from the index with them). A query without a
 * word (only punctuation or operators) is `400 empty_query`.
 */
export async function searchMessages(
  ctx: AppContext,
  p: Principal,
  input: SearchInput,
): Promise<{ items: SearchResult[]; nextCursor: string | null }> {
  const terms = searchTerms(input.q);
  if (terms.length === 0)
    throw ValidationError.field('query.q', 'has no word to search for (letters or digits)', 'empty_query');
  const below = input.cursor ? String(decodeCursor(input.cursor, 'search', ['id'])[0]) : undefined;
  const mine = p.actor.role === 'operator' ? await findOperatorDepartmentIds(ctx.db, p.actor.id) : [];
  const hits = await searchRows(ctx.db, {
    orgId: p.orgId,
    actorId: p.actor.id,
    terms,
    supportDepartments: servedDepartments(p, mine),
    conversationId: input.conversationId,
    senderId: input.senderId,
    after: input.after,
    before: input.before,
    hasAttachment: input.hasAttachment,
    belowId: below,
    limit: input.limit + 1,
  });
  const page = keysetPage(hits, input.limit, 'search', (last) => [last.message.id]);
  return {
    items: page.items.map((h) => ({ ...h, snippet: highlight(h.message.text ?? '', terms) })),
    nextCursor: page.nextCursor,
  };
}
