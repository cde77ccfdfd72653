import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import type { Session } from '../App.tsx';
import type { Page } from '../api.ts';
import { isSupportStaff } from './staff.ts';
import type { CannedResponse } from './types.ts';

/** `/shortcut` being typed at the end of the text (at its start or after a space). */
const TOKEN = /(^|\s)\/([a-z0-9_-]{0,33})$/i;
const MAX_SHOWN = 8;
/** The list is read again when the picker opens and it is older than this. */
const STALE_MS = 60_000;

export interface ComposerAssist {
  /** The picker, shown above the text box while open. */
  node: ReactNode;
  /** Runs first on the text box's keys; a key it uses is `preventDefault`ed. */
  onKeyDown: (e: KeyboardEvent<HTMLTextAreaElement>) => void;
  /** Combobox attributes for the text box. */
  aria: {
    'aria-autocomplete'?: 'list';
    'aria-controls'?: string;
    'aria-expanded'?: boolean;
    'aria-activedescendant'?: string;
  };
}

/**
 * Canned responses in the composer of a support chat (staff only): typing `/` and a shortcut
 * offers the matching snippets; ↑/↓ choose, Enter or Tab expands the chosen one into the text
 * box, Esc closes.
 */
export function useCannedPicker(
  session: Session,
  enabled: boolean,
  text: string,
  setText: (value: string) => void,
): ComposerAssist | undefined {
  const on = enabled && isSupportStaff(session.me);
  const { api } = session;
  const [all, setAll] = useState<CannedResponse[] | null>(null);
  const loadedAt = useRef(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);

  const m = on ? TOKEN.exec(text) : null;
  const prefix = m ? m[2]!.toLowerCase() : null;
  const wanted = prefix !== null;

  useEffect(() => {
    if (!wanted || Date.now() - loadedAt.current < STALE_MS) return;
    loadedAt.current = Date.now();
    api
      .get<Page<CannedResponse>>('/canned-responses?limit=100')
      .then((p) => setAll(p.items))
      .catch(() => setAll([]));
  }, [wanted, api]);

  const matches =
    prefix === null || !all
      ? []
      : all
          .filter((c) => c.shortcut.toLowerCase().startsWith(prefix))
          .sort((a, b) => a.shortcut.localeCompare(b.shortcut))
          .slice(0, MAX_SHOWN);
  const open = prefix !== null && dismissed !== text && matches.length > 0;

  // A new prefix starts at the first match; leaving the shortcut forgets an Esc.
  useEffect(() => {
    setActive(0);
    if (prefix === null) setDismissed(null);
  }, [prefix]);

  if (!on) return undefined;

  const choose = (c: CannedResponse) => {
    const token = TOKEN.exec(text);
    if (!token) return;
    const start = token.index + token[1]!.length;
    setText(text.slice(0, start) + c.text);
    setDismissed(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open) return;
    const n = matches.length;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => (i + 1) % n);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => (i - 1 + n) % n);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      const c = matches[Math.min(active, n - 1)];
      if (c) choose(c);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      setDismissed(text);
    }
  };

  const node = open ? (
    <div className="canned-picker">
      <p className="canned-hint" id="canned-hint">
        Canned responses: ↑ ↓ to choose, Enter or Tab to insert, Esc to close
      </p>
      <div id="canned-options" role="listbox" aria-label="Canned responses" aria-describedby="canned-hint">
        {matches.map((c, i) => (
          <div
            key={c.id}
            id={`canned-${c.id}`}
            role="option"
            tabIndex={-1}
            aria-selected={i === active}
            className={i === active ? 'active' : ''}
            // Keep the focus in the text box: pick on mouse down.
            onMouseDown={(e) => {
              e.preventDefault();
              choose(c);
            }}
            onMouseEnter={() => setActive(i)}
          >
            <span className="shortcut">/{c.shortcut}</span> <strong>{c.title}</strong>
            <span className="canned-text">{c.text}</span>
          </div>
        ))}
      </div>
    </div>
  ) : null;

  return {
    node,
    onKeyDown,
    aria: open
      ? {
          'aria-autocomplete': 'list',
          'aria-controls': 'canned-options',
          'aria-expanded': true,
          'aria-activedescendant': matches[active] ? `canned-${matches[active].id}` : undefined,
        }
      : { 'aria-autocomplete': 'list', 'aria-expanded': false },
  };
}
