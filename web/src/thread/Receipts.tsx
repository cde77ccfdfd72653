import { compareIds, type Receipts } from './teamchat.ts';

/**
 * "Seen by …" under the last message: the other members whose read position is at or after it.
 * Nothing when receipts are off (org setting, channels, large groups, support chats).
 */
export function SeenBy({
  receipts,
  messageId,
  senderId,
  names,
  kind,
}: {
  receipts: Receipts;
  messageId: string;
  senderId: string;
  names: Map<string, string>;
  kind: string;
}) {
  if (!receipts.enabled) return null;
  const seen = [...receipts.reads]
    .filter(([actor, read]) => actor !== senderId && read !== null && compareIds(read, messageId) >= 0)
    .map(([actor]) => names.get(actor) ?? 'Someone');
  if (seen.length === 0) return null;
  const everyone = seen.length === receipts.reads.size - (receipts.reads.has(senderId) ? 1 : 0);
  const text =
    kind === 'direct'
      ? 'Seen'
      : everyone && seen.length > 2
        ? 'Seen by everyone'
        : `Seen by ${seen.join(', ')}`;
  return (
    <p className="seen-by" aria-live="polite" title={`Seen by ${seen.join(', ')}`}>
      {text}
    </p>
  );
}
