import { useEffect, useMemo, useState } from 'react';
import type { Member } from './teamchat.ts';

/**
 * Member completion on `@` for a textarea (by id): typing `@` and letters lists the matching
 * members (and `@all` in groups and channels); arrow keys move, Enter or Tab picks, Escape
 * closes. The text shows `@Name`; `toWire` turns the picked names into the `<@id>` form the
 * server resolves (names are not unique, so the id is what is sent).
 */
export function MentionPicker({
  inputId,
  text,
  members,
  meId,
  allowAll,
  onPick,
  onSearch,
}: {
  inputId: string;
  text: string;
  members: Member[];
  meId: string;
  allowAll: boolean;
  /** The new text and caret, and the member picked (null: @all). */
  onPick: (text: string, caret: number, member: Member | null) => void;
  /** Someone is typing a mention: the members not read yet are needed (pages past the first). */
  onSearch?: () => void;
}) {
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);

  // The caret follows typing, clicks and arrow keys in the textarea.
  useEffect(() => {
    const el = document.getElementById(inputId) as HTMLTextAreaElement | null;
    if (!el) return;
    const update = () => setCaret(el.selectionStart ?? 0);
    const events = ['input', 'keyup', 'click', 'focus', 'select'] as const;
    for (const e of events) el.addEventListener(e, update);
    return () => {
      for (const e of events) el.removeEventListener(e, update);
    };
  }, [inputId]);

  // The `@query` right before the caret (at the start or after a space).
  const query = useMemo(() => {
    const before = text.slice(0, caret);
    const m = /(?:^|\s)@([\p{L}\p{N}_.'-]{0,30})$/u.exec(before);
    return m ? { text: m[1]!, start: caret - m[1]!.length - 1 } : null;
  }, [text, caret]);

  const searching = query !== null;
  useEffect(() => {
    if (searching) onSearch?.();
  }, [searching, onSearch]);

  const options = useMemo(() => {
    if (!query) return [];
    const q = query.text.toLowerCase();
    const found: (Member | null)[] = members
      .filter((m) => m.id !== meId)
      .filter(
        (m) =>
          m.name
            .toLowerCase()
            .split(/\s+/)
            .some((w) => w.startsWith(q)) || m.name.toLowerCase().startsWith(q),
      )
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, 8);
    if (allowAll && 'all'.startsWith(q)) found.push(null);
    return found;
  }, [query, members, meId, allowAll]);

  const open = query !== null && options.length > 0 && dismissed !== query.start;
  const index = Math.min(active, Math.max(0, options.length - 1));

  const pick = (m: Member | null) => {
    if (!query) return;
    const label = `@${m ? m.name : 'all'} `;
    const next = text.slice(0, query.start) + label + text.slice(caret);
    const at = query.start + label.length;
    onPick(next, at, m);
    setActive(0);
    const el = document.getElementById(inputId) as HTMLTextAreaElement | null;
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at, at);
      setCaret(at);
    });
  };

  // Keys go to the picker first while it is open (before the composer's Enter-to-send).
  useEffect(() => {
    const el = document.getElementById(inputId);
    if (!el || !open) return;
    const keys = (e: KeyboardEvent) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((index + step + options.length) % options.length);
      } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        pick(options[index]!);
      } else if (e.key === 'Escape') {
        setDismissed(query?.start ?? null);
      } else return;
      e.preventDefault();
      e.stopPropagation();
    };
    el.addEventListener('keydown', keys);
    return () => el.removeEventListener('keydown', keys);
  });

  if (!open) return null;
  return (
    <div className="mention-picker" role="listbox" aria-label="Mention someone">
      {options.map((m, i) => (
        <div
          key={m ? m.id : 'all'}
          role="option"
          tabIndex={-1}
          aria-selected={i === index}
          className={i === index ? 'active' : ''}
          onPointerDown={(e) => {
            e.preventDefault();
            pick(m);
          }}
        >
          {m ? (
            <strong>@{m.name}</strong>
          ) : (
            <>
              <strong>@all</strong> <small>everyone here</small>
            </>
          )}
        </div>
      ))}
    </div>
  );
}

/** The text to send: each picked `@Name` becomes `<@id>` (longest names first). */
export function toWire(text: string, picked: Map<string, string>): string {
  let out = text;
  const names = [...picked.keys()].sort((a, b) => b.length - a.length);
  for (const name of names) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(
      new RegExp(`(^|[^\\w<])@${escaped}(?![\\p{L}\\p{N}_])`, 'gu'),
      `$1<@${picked.get(name)}>`,
    );
  }
  return out;
}

/** A stored text for the composer (an edit): `<@id>` back to `@Name`, remembering the ids. */
export function fromWire(text: string, names: Map<string, string>, picked: Map<string, string>): string {
  return text.replace(/<@(\d{1,20})>/g, (whole, id: string) => {
    const name = names.get(id);
    if (!name) return whole;
    picked.set(name, id);
    return `@${name}`;
  });
}
