import { type ReactNode, useEffect, useRef, useState } from 'react';
import type { Message } from '../api.ts';
import { type AttachmentRef, AttachmentView } from '../attachments/AttachmentView.tsx';
import { Markdown, type MentionEnv, plainText } from '../markdown.tsx';
import { Avatar, RelativeTime } from '../ui.tsx';
import { PresenceAvatar } from './Presence.tsx';
import type { PresenceStatus } from './teamchat.ts';

/**
 * One message of the thread. The first of a group (same sender, a few minutes apart) shows the
 * avatar, the name and the time; the rest only the text (the time on hover). Reply, Pin, Edit
 * and Delete show on hover or keyboard focus; on touch screens and phones they are in a menu
 * (the ⋯ button).
 */
export function MessageItem({
  message: m,
  highlighted = false,
  first,
  parent,
  names,
  own,
  onReply,
  onPin,
  onEdit,
  onDelete,
  mentions,
  presence,
  below,
  inThread = false,
}: {
  /** Names for `<@id>` mentions, and you (yours are highlighted more). */
  mentions?: MentionEnv;
  /** The sender's presence: a dot on the avatar. */
  presence?: PresenceStatus | undefined;
  /** Under the text: reactions, the thread summary, "Seen by". */
  below?: ReactNode;
  /** Shown in the thread panel: no Pin or Edit there (Reply, React and Delete are). */
  inThread?: boolean;
  message: Message;
  /** The message a search result opened the thread at. */
  highlighted?: boolean;
  /** The first message of its group: shows the avatar, the name and the time. */
  first: boolean;
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
  const [menu, setMenu] = useState(false);
  const ref = useRef<HTMLLIElement | null>(null);
  // The menu closes on a tap elsewhere, or Escape.
  useEffect(() => {
    if (!menu) return;
    const away = (e: Event) => {
      if (!ref.current?.contains(e.target as Node)) setMenu(false);
    };
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setMenu(false);
    // Bring the opened menu into view (the last message's menu opens below it).
    ref.current?.scrollIntoView?.({ block: 'nearest' });
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [menu]);
  const act = (fn: () => void) => () => {
    setMenu(false);
    fn();
  };
  return (
    <li
      ref={ref}
      id={`msg-${m.id}`}
      className={`message ${first ? 'first' : 'cont'} ${own ? 'own' : ''} ${highlighted ? 'highlighted' : ''} ${menu ? 'menu-open' : ''}`}
      aria-current={highlighted ? 'true' : undefined}
      aria-label={`${sender}: ${m.deleted ? 'deleted' : m.text}`}
    >
      <div className="message-gutter">
        {first ? (
          presence !== undefined || mentions ? (
            <PresenceAvatar name={sender} status={presence} />
          ) : (
            <Avatar name={sender} />
          )
        ) : (
          <RelativeTime className="message-hover-time" at={m.created_at} />
        )}
      </div>
      <div className="message-body">
        {first && (
          <div className="message-head">
            <strong>{sender}</strong> <RelativeTime at={m.created_at} />
            {m.edited_at && !m.deleted && <small> (edited)</small>}
          </div>
        )}
        {m.reply_to_id && (
          <blockquote className="reply-quote">
            ↪{' '}
            {parent
              ? `${names.get(parent.sender_id) ?? 'Someone'}: ${parent.deleted ? 'deleted' : plainText(parent.text, mentions)}`
              : 'an earlier message'}
          </blockquote>
        )}
        {m.deleted ? (
          <p className="message-text deleted">
            <em>This message was deleted.</em>
          </p>
        ) : (
          <Markdown className="message-text" text={m.text} mentions={mentions} />
        )}
        {!m.deleted && <AttachmentView attachments={(m as { attachments?: AttachmentRef[] }).attachments} />}
        {!first && m.edited_at && !m.deleted && <small className="edited"> (edited)</small>}
        {below}
      </div>
      {!m.deleted && (
        <>
          <button
            type="button"
            className="message-menu-toggle"
            aria-label={`Actions for ${sender}: ${m.text}`}
            aria-expanded={menu}
            onClick={() => setMenu((o) => !o)}
          >
            ⋯
          </button>
          <div className="message-actions">
            <button type="button" aria-label={`Reply to ${sender}: ${m.text}`} onClick={act(onReply)}>
              Reply
            </button>
            {below && (
              <button
                type="button"
                aria-label={`React to ${sender}: ${m.text}`}
                onClick={act(() =>
                  ref.current?.querySelector<HTMLButtonElement>('.reactions .reaction-add')?.click(),
                )}
              >
                React
              </button>
            )}
            {!inThread && (
              <button type="button" aria-label={`Pin message: ${m.text}`} onClick={act(onPin)}>
                Pin
              </button>
            )}
            {own && !inThread && (
              <button type="button" aria-label={`Edit message: ${m.text}`} onClick={act(onEdit)}>
                Edit
              </button>
            )}
            {own && (
              <button
                type="button"
                aria-label={`Delete message: ${m.text}`}
                onClick={act(() => window.confirm('Delete this message for everyone?') && onDelete())}
              >
                Delete
              </button>
            )}
          </div>
        </>
      )}
    </li>
  );
}
