/**
 * The pure part of message search: the words of what the user typed, and the snippet that
 * shows where they matched. What the user types is never handed to a database's query parser:
 * only these words are, each quoted (store/repos/search.ts).
 */

/** At most this many words of a query are used (the rest are ignored). */
export const MAX_TERMS = 8;
/** A longer word is cut to this many characters (it still matches as a prefix). */
export const MAX_TERM_LENGTH = 64;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** Lower case, compatibility forms unified, diacritics removed: "Café" and "cafe" compare equal. */
export function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The distinct words of a query, lower-cased, in order: runs of letters and digits. Everything
 * else (quotes, operators, parentheses, `*`, `:`, NUL) only separates words. [] when there is
 * none. Accents are kept: SQLite's tokenizer folds them on both sides, PostgreSQL's `simple`
 * configuration does not (there "cafe" does not find "café").
 */
export function searchTerms(q: string): string[] {
  const terms: string[] = [];
  for (const [w] of q.normalize('NFKC').matchAll(WORD)) {
    const t = w.toLowerCase().slice(0, MAX_TERM_LENGTH);
    if (t.length > 0 && !terms.includes(t)) terms.push(t);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Characters of context before the first hit, and the snippet's length at most (before escaping). */
const BEFORE = 60;
const LENGTH = 240;

/**
 * A snippet of `text` around its first hit, HTML-escaped, with every word that starts with one
 * of `terms` wrapped in `<mark>`…`</mark>` (the only markup in it, so it can be inserted as
 * HTML). `…` marks text cut at either end.
 */
export function highlight(text: string, terms: readonly string[]): string {
  const hits: [number, number][] = [];
  const folded = terms.map(fold);
  for (const m of text.matchAll(WORD)) {
    const w = fold(m[0]);
    if (folded.some((t) => w.startsWith(t))) hits.push([m.index, m.index + m[0].length]);
  }
  const first = hits[0]?.[0] ?? 0;
  // As much of the text as fits, the first hit at most BEFORE characters in (unless the end shows).
  let start = Math.min(Math.max(0, first - BEFORE), Math.max(0, text.length - LENGTH));
  if (start > 0) {
    const space = text.lastIndexOf(' ', start);
    start = space >= 0 && first - space <= BEFORE + 20 ? space + 1 : start;
  }
  const end = Math.min(text.length, start + LENGTH);
  let out = start > 0 ? '…' : '';
  let at = start;
  for (const [a, b] of hits) {
    if (b <= start) continue;
    if (a >= end) break;
    const from = Math.max(a, start);
    out += escapeHtml(text.slice(at, from));
    out += `<mark>${escapeHtml(text.slice(from, Math.min(b, end)))}</mark>`;
    at = Math.min(b, end);
  }
  out += escapeHtml(text.slice(at, end));
  return end < text.length ? `${out}…` : out;
}
