import { useEffect, useRef, useState } from 'react';
import type { Api } from '../api.ts';
import type { Reaction } from './teamchat.ts';

/** The picker's emoji: a fixed set of common ones (the server takes any RGI emoji or :shortcode:). */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀', '✅', '🔥', '👏', '🚀'];

/**
 * Under a message: each reaction with its count (the title names who reacted); a click toggles
 * yours; "+" opens a small emoji picker. The server's answer replaces the list; other people's
 * reactions arrive as `reaction.added` / `reaction.removed` (useThread).
 */
export function Reactions({
  api,
  conversationId,
  messageId,
  reactions,
  meId,
  names,
  onChange,
  onError,
}: {
  api: Api;
  conversationId: string;
  messageId: string;
  reactions: Reaction[];
  meId: string;
  names: Map<string, string>;
  onChange: (reactions: Reaction[]) => void;
  onError: (err: unknown) => void;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);
  const toggle = async (emoji: string, mine: boolean) => {
    setOpen(false);
    try {
      const path = `/conversations/${conversationId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;
      const r = await (mine ? api.del : api.put)<{ reactions: Reaction[] }>(path);
      onChange(r.reactions);
    } catch (err) {
      onError(err);
    }
  };
  return (
    <div className="reactions" ref={ref}>
      {reactions.map((r) => {
        const mine = r.actor_ids.includes(meId);
        const who = r.actor_ids.map((a) => (a === meId ? 'you' : (names.get(a) ?? 'someone')));
        const more = r.count - r.actor_ids.length;
        const title = `${who.join(', ')}${more > 0 ? ` and ${more} more` : ''} reacted with ${r.emoji}`;
        return (
          <button
            key={r.emoji}
            type="button"
            className={`reaction ${mine ? 'mine' : ''}`}
            aria-pressed={mine}
            title={title}
            aria-label={`${r.emoji} ${r.count}: ${title}`}
            onClick={() => void toggle(r.emoji, mine)}
          >
            <span aria-hidden="true">{r.emoji}</span> <span className="reaction-count">{r.count}</span>
          </button>
        );
      })}
      <button
        type="button"
        className="reaction-add"
        aria-label="Add reaction"
        aria-expanded={open}
        title="Add reaction"
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden="true">☺+</span>
      </button>
      {open && (
        <div className="emoji-picker" role="menu" aria-label="Choose a reaction">
          {COMMON_EMOJI.map((e) => {
            const mine = reactions.some((r) => r.emoji === e && r.actor_ids.includes(meId));
            return (
              <button
                key={e}
                type="button"
                role="menuitem"
                aria-label={`React with ${e}`}
                onClick={() => void toggle(e, mine)}
              >
                {e}
              </button>
            );
          })}
        </div>
      )}
    </div>
  );
}

/** A reaction event applied to a message's list (count from the server, who from the event). */
export function applyReactionEvent(
  list: Reaction[],
  e: { actor_id: string; emoji: string; count: number },
  added: boolean,
): Reaction[] {
  const i = list.findIndex((r) => r.emoji === e.emoji);
  if (e.count === 0) return list.filter((r) => r.emoji !== e.emoji);
  if (i < 0) return [...list, { emoji: e.emoji, count: e.count, actor_ids: added ? [e.actor_id] : [] }];
  const r = list[i]!;
  const others = r.actor_ids.filter((a) => a !== e.actor_id);
  const next = { ...r, count: e.count, actor_ids: added ? [...others, e.actor_id] : others };
  return list.map((x, j) => (j === i ? next : x));
}
