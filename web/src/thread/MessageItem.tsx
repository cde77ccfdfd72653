import type { Message } from '../api.ts';
import { type AttachmentRef, AttachmentView } from '../attachments/AttachmentView.tsx';
import { time } from '../ui.tsx';

/** One message of the thread, with the quote it replies to and its actions. */
export function MessageItem({
  message: m,
  highlighted = false,
  parent,
  names,
  own,
  onReply,
  onPin,
  onEdit,
  onDelete,
}: {
  message: Message;
  /** The message a search result opened the thread at. */
  highlighted?: boolean;
  /** The message it replies to, when loaded. */
  parent: Message | undefined;
  names: Map<string, string>;
  own: boolean;
  onReply: () => void;
  onPin: () => void;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const sender = names.get(m.sender_id) ?? 'Someone';
  return (
    <li
      id={`msg-${m.id}`}
      className={`message ${own ? 'own' : ''} ${highlighted ? 'highlighted' : ''}`}
      aria-current={highlighted ? 'true' : undefined}
      aria-label={`${sender}: ${m.deleted ? 'deleted' : m.text}`}
    >
      <div className="message-head">
        <strong>{sender}</strong> <time>{time(m.created_at)}</time>
        {m.edited_at && !m.deleted && <small> (edited)</small>}
      </div>
      {m.reply_to_id && (
        <blockquote className="reply-quote">
          ↪ {parent ? `${names.get(parent.sender_id) ?? 'Someone'}: ${parent.text}` : 'an earlier message'}
        </blockquote>
      )}
      <p className="message-text">{m.deleted ? <em>This message was deleted.</em> : m.text}</p>
      {!m.deleted && <AttachmentView attachments={(m as { attachments?: AttachmentRef[] }).attachments} />}
      {!m.deleted && (
        <div className="message-actions">
          <button type="button" aria-label={`Reply to ${sender}: ${m.text}`} onClick={onReply}>
            Reply
          </button>
          <button type="button" aria-label={`Pin message: ${m.text}`} onClick={onPin}>
            Pin
          </button>
          {own && (
            <>
              <button type="button" aria-label={`Edit message: ${m.text}`} onClick={onEdit}>
                Edit
              </button>
              <button
                type="button"
                aria-label={`Delete message: ${m.text}`}
                onClick={() => window.confirm('Delete this message for everyone?') && onDelete()}
              >
                Delete
              </button>
            </>
          )}
        </div>
      )}
    </li>
  );
}
