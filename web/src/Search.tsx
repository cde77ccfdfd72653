import { type FormEvent, useState } from 'react';
import type { Session } from './App.tsx';
import { type Message, type Page, query } from './api.ts';
import { conversationTitle } from './conversationTitle.ts';
import { Busy, Empty, ErrorNote, time } from './ui.tsx';

export interface SearchResult {
  message: Message;
  conversation: { id: string; kind: string; title: string | null };
  /** HTML-escaped by the server; the only markup is <mark> around the hits. */
  snippet: string;
}

/**
 * Message search in the list pane: a search box; while it holds a query, the results replace
 * the conversation list. Choosing a result opens its conversation at the message.
 */
export function MessageSearch({
  session,
  directNames,
  onOpen,
  onActive,
}: {
  session: Session;
  directNames: Map<string, string>;
  onOpen: (conversationId: string, messageId: string) => void;
  /** Whether results are shown (the list hides meanwhile). */
  onActive: (active: boolean) => void;
}) {
  const { api, names } = session;
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Page<SearchResult> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = async (cursor: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api.get<Page<SearchResult>>(
        `/search/messages${query({ q: q.trim(), limit: 20, cursor })}`,
      );
      setResults((prev) =>
        cursor && prev ? { items: [...prev.items, ...page.items], next_cursor: page.next_cursor } : page,
      );
      onActive(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (q.trim()) void run(null);
  };
  const clear = () => {
    setQ('');
    setResults(null);
    setError(null);
    onActive(false);
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
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              if (!e.target.value) clear();
            }}
          />
          <button type="submit" disabled={busy || !q.trim()}>
            Search
          </button>
          {results && (
            <button type="button" onClick={clear}>
              Clear
            </button>
          )}
        </form>
      </search>
      <ErrorNote error={error} />
      {results && (
        <>
          {results.items.length === 0 && <Empty>No messages match.</Empty>}
          <ul className="search-results" aria-label="Search results">
            {results.items.map((r) => {
              const title = conversationTitle(r.conversation, directNames);
              const sender = names.get(r.message.sender_id) ?? 'Someone';
              return (
                <li key={r.message.id}>
                  <button
                    type="button"
                    className="search-hit"
                    aria-label={`${sender} in ${title}: ${r.message.text}`}
                    onClick={() => onOpen(r.conversation.id, r.message.id)}
                  >
                    <span className="conv-title">{title}</span>
                    <time className="conv-time">{time(r.message.created_at)}</time>
                    <span className="search-sender">{sender}</span>
                    {/* The server escapes the text; <mark> is the only markup in a snippet. */}
                    {/* biome-ignore lint/security/noDangerouslySetInnerHtml: escaped by the server (docs/api.md) */}
                    <span className="search-snippet" dangerouslySetInnerHTML={{ __html: r.snippet }} />
                  </button>
                </li>
              );
            })}
            {results.next_cursor && (
              <li>
                <button type="button" disabled={busy} onClick={() => void run(results.next_cursor)}>
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
