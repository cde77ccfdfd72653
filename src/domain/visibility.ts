/**
 * The one visibility rule for content (docs/security.md#erasure). A conversation's content (its
 * messages, the events and webhook deliveries that copy them, its question and metadata) is
 * shown, on every path (REST reads and lists, the dialects, live events and catch-up, webhook
 * deliveries pending, failed, listed and exported, the console), only while the conversation
 * is not deleted: a conversation in the recycle bin, or taken by a deletion job, shows nothing
 * (a restore shows it again, as it was); a purged one has nothing left. A message deleted for
 * everyone shows only its tombstone (its copies are redacted when it is deleted).
 *
 * The same rule in SQL, for queries that filter many rows at once, is
 * store/repos/visibility.ts.
 */
export function isConversationShown(c: { deletedAt?: number | null | undefined }): boolean {
  return c.deletedAt === null || c.deletedAt === undefined;
}
