import type { Conversation } from './api.ts';

/** A conversation's name: its title, or for a direct chat the other person's name. */
export function conversationTitle(
  c: Pick<Conversation, 'id' | 'kind' | 'title'>,
  directNames: Map<string, string>,
): string {
  if (c.title) return c.title;
  if (c.kind === 'direct') return directNames.get(c.id) ?? 'Direct chat';
  if (c.kind === 'support') return 'Support chat';
  return `${c.kind} ${c.id}`;
}
