import type { Db } from '../context.ts';
import type { Message, SupportChat } from '../domain/model.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import { listMessages as listMessageRows } from '../store/repos/messages.ts';
import { findSupportChat } from '../store/repos/support.ts';

/**
 * Transcripts of support chats. The mail that carries one is queued when the chat ends with
 * no text of its own (`mail_outbox.transcript_of` names the chat); its body is rendered here when
 * it is sent, from the messages as they are then. So a message deleted for everyone, purged with
 * its chat or erased by a deletion job while the mail waits never reaches the visitor's inbox,
 * and the outbox never holds a copy of the chat's text.
 */

/** The body a queued transcript mail keeps until it is sent (no message text). */
export const TRANSCRIPT_PLACEHOLDER = '(The transcript is written when this mail is sent.)\n';

export function transcriptOf(chat: SupportChat, messages: Message[], names: Map<string, string>): string {
  const lines = messages
    .filter((m) => m.deletedAt === null && m.text !== null)
    .map(
      (m) =>
        `[${new Date(m.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC] ${names.get(m.senderId) ?? 'Someone'}: ${m.text}`,
    );
  return `Chat #${chat.referenceId}\n\n${lines.join('\n')}\n`;
}

/**
 * The transcript of the support chat as it is now, or null when the chat is gone (purged or
 * erased) or in the recycle bin: then nothing is sent.
 */
export async function renderTranscript(
  db: Db,
  orgId: string,
  conversationId: string,
): Promise<string | null> {
  const chat = await findSupportChat(db, orgId, conversationId);
  if (!chat) return null;
  const messages = await listMessageRows(db, conversationId, { order: 'asc', limit: 2000 });
  const names = new Map(
    (await findActorsByIds(db, orgId, [...new Set(messages.map((m) => m.senderId))])).map((a) => [
      a.id,
      a.name,
    ]),
  );
  return transcriptOf(chat, messages, names);
}
