import { type FormEvent, type ReactNode, useEffect, useRef } from 'react';
import type { Api, Conversation, MemberState, Message } from '../api.ts';
import type { ComposerAssist } from '../support/CannedPicker.tsx';

/**
 * Keeps the composer's text as your draft on the server (it shows in the list, on every device)
 * once typing pauses. Returns what was last saved; a send sets it to '' (the server clears the
 * draft itself).
 */
export function useDraft(
  api: Api,
  id: string,
  conv: Conversation | null,
  text: string,
  editing: Message | null,
  setMe: (state: MemberState) => void,
) {
  const draftSaved = useRef<string | null>(null);
  useEffect(() => {
    if (!conv?.me || editing) return;
    if (draftSaved.current === null) {
      draftSaved.current = conv.me.draft ?? '';
      return;
    }
    const value = text.trim();
    if (value === draftSaved.current) return;
    const t = setTimeout(() => {
      draftSaved.current = value;
      const save = value
        ? api.put<MemberState>(`/conversations/${id}/draft`, { text })
        : api.del<MemberState>(`/conversations/${id}/draft`);
      void save.then((state) => state && setMe(state)).catch(() => undefined);
    }, 1000);
    return () => clearTimeout(t);
  }, [text, conv?.me, editing, api, id, setMe]);
  return draftSaved;
}

/** The message box: a new message, a reply or an edit (Enter sends, Escape cancels the mode). */
export function Composer({
  title,
  text,
  replyTo,
  editing,
  names,
  busy,
  onType,
  onCancelMode,
  onSubmit,
  attach,
  assist,
}: {
  attach?: ReactNode;
  /** Canned responses (support chats): a picker above the box that takes keys first. */
  assist?: ComposerAssist;
  title: string;
  text: string;
  replyTo: Message | null;
  editing: Message | null;
  names: Map<string, string>;
  busy: boolean;
  onType: (value: string) => void;
  onCancelMode: () => void;
  onSubmit: (e: FormEvent) => void;
}) {
  return (
    <form className="composer" onSubmit={onSubmit}>
      {(replyTo || editing) && (
        <p className="composer-mode">
          {editing
            ? 'Editing your message'
            : `Replying to ${names.get(replyTo!.sender_id) ?? 'someone'}: ${replyTo!.text}`}{' '}
          <button type="button" onClick={onCancelMode}>
            Cancel
          </button>
        </p>
      )}
      <label htmlFor="composer" className="sr-only">
        Message
      </label>
      {assist?.node}
      <textarea
        id="composer"
        {...assist?.aria}
        rows={2}
        value={text}
        placeholder={`Message ${title}`}
        onChange={(e) => onType(e.target.value)}
        onKeyDown={(e) => {
          assist?.onKeyDown(e);
          if (e.defaultPrevented) return;
          if (e.key === 'Escape' && (replyTo || editing)) onCancelMode();
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            e.currentTarget.form?.requestSubmit();
          }
        }}
      />
      {attach}
      <button type="submit" disabled={busy || !text.trim()}>
        {editing ? 'Save' : 'Send'}
      </button>
    </form>
  );
}
