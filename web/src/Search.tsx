import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { Session } from './App.tsx';
import { type Message, type Page, query } from './api.ts';
import { conversationTitle } from './conversationTitle.ts';
import { Busy, Empty, ErrorNote, RelativeTime } from './ui.tsx';

export interface SearchResult {
  message: Message;
  conversation: { id: string; kind: string; title: string | null };
  /** HTML-escaped by the server; the only markup is <mark> around the hits. */
  snippet: string;
}

/**
 * Message search in the list pane: a search box; the query is the URL's `?q=` (so a search
 * survives a reload and can be linked to), and while there is one the results replace the
 * conversation list. A result links to its conversation at the message.
 */
export function MessageSearch({
  session,
  directNames,
  q,
  onQuery,
  linkTo,
}: {
  session: Session;
  directNames: Map<string, string>;
  /** The query in the URL ('' when not searching). */
  q: string;
  /** Sets (or, with '', clears) the query in the URL. */
  onQuery: (q: string) => void;
  linkTo: (conversationId: string, messageId: string) => string;
}) {
  const { api, names } = session;
  const [value, setValue] = useState(q);
  const [results, setResults] = useState<Page<SearchResult> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = useCallback(
    async (text: string, cursor: string | null) => {
      setBusy(true);
      setError(null);
      try {
        const page = await api.get<Page<SearchResult>>(
          `/search/messages${query({ q: text.trim(), limit: 20, cursor })}`,
        );
        setResults((prev) =>
          cursor && prev ? { items: [...prev.items, ...page.items], next_cursor: page.next_cursor } : page,
        );
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    },
    [api],
  );
  useEffect(() => {
    setValue(q);
    if (q.trim()) void run(q, null);
    else {
      setResults(null);
      setError(null);
    }
  }, [q, run]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return;
    if (value === q) void run(q, null);
    else onQuery(value);
  };
  const clear = () => {
    setValue('');
    onQuery('');
  };

  return (
    <div className="search">
      <search>
        <form className="search-form" onSubmit={submit}>
          <label htmlFor="message-search" className="visually-hidden">
            Search messages
          </label>
          <input
            id="message-search"
            type="search"
            placeholder="Search messages"
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
              if (!e.target.value && q) clear();
            }}
          />
          <button type="submit" disabled={busy || !value.trim()}>
            Search
          </button>
          {q && (
            <button type="button" onClick={clear}>
              Clear
            </button>
          )}
        </form>
      </search>
      <ErrorNote error={error} />
      {q && results && (
        <>
          {results.items.length === 0 && <Empty>No messages match.</Empty>}
          <ul className="search-results" aria-label="Search results">
            {results.items.map((r) => {
              const title = conversationTitle(r.conversation, directNames);
              const sender = names.get(r.message.sender_id) ?? 'Someone';
              return (
                <li key={r.message.id}>
                  <Link
                    className="search-hit"
                    to={linkTo(r.conversation.id, r.message.id)}
                    aria-label={`${sender} in ${title}: ${r.message.text}`}
                  >
                    <span className="conv-title">{title}</span>
                    <RelativeTime className="conv-time" at={r.message.created_at} />
                    <span className="search-sender">{sender}</span>
                    {/* The server escapes the text; <mark> is the only markup in a snippet. */}
                    {/* biome-ignore lint/security/noDangerouslySetInnerHtml: escaped by the server (docs/api.md) */}
                    <span className="search-snippet" dangerouslySetInnerHTML={{ __html: r.snippet }} />
                  </Link>
                </li>
              );
            })}
            {results.next_cursor && (
              <li>
                <button type="button" disabled={busy} onClick={() => void run(q, results.next_cursor)}>
                  More results
                </button>
              </li>
            )}
          </ul>
        </>
      )}
      {busy && <Busy label="Searching…" />}
    </div>
  );
}
