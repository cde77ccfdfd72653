import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from './api.ts';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** A readable error, announced to screen readers. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Busy({ label }: { label: string }) {
  return (
    <p className="busy" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** Runs an async action with a busy flag and an error, for buttons. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

export function time(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === -1) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/** The full date and time, for a title (hover) or a screen reader. */
export function fullTime(iso: string | number): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
}

/** "just now", "5 min ago", "3 h ago"; older: the clock time today, else a short date. */
export function relativeTime(iso: string | number, now = Date.now()): string {
  const t = new Date(iso).getTime();
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 6 * 3600) return `${Math.round(s / 3600)} h ago`;
  const d = new Date(t);
  if (sameDay(d, new Date(now))) return d.toLocaleTimeString(undefined, { timeStyle: 'short' });
  if (sameDay(d, new Date(now - 86_400_000)))
    return `Yesterday ${d.toLocaleTimeString(undefined, { timeStyle: 'short' })}`;
  return d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "Today", "Yesterday", or the date (a day separator in the thread). */
export function dayLabel(iso: string | number, now = Date.now()): string {
  const d = new Date(iso);
  if (sameDay(d, new Date(now))) return 'Today';
  if (sameDay(d, new Date(now - 86_400_000))) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

const tickers = new Set<() => void>();
let tickTimer: ReturnType<typeof setInterval> | null = null;

/** The current time, re-rendering every 30 s (one shared timer for every relative time). */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = () => setNow(Date.now());
    tickers.add(tick);
    tickTimer ??= setInterval(() => {
      for (const t of tickers) t();
    }, 30_000);
    return () => {
      tickers.delete(tick);
      if (tickers.size === 0 && tickTimer) {
        clearInterval(tickTimer);
        tickTimer = null;
      }
    };
  }, []);
  return now;
}

/** A relative time ("5 min ago") with the absolute one on hover (title) and in `dateTime`. */
export function RelativeTime({ at, className }: { at: string | number; className?: string }) {
  const now = useNow();
  const iso = new Date(at).toISOString();
  return (
    <time className={className} dateTime={iso} title={fullTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
}

const AVATAR_COLOURS = [
  '#2356c7',
  '#0f7b6c',
  '#a34f00',
  '#7a3db8',
  '#b3261e',
  '#3c6e1f',
  '#975a16',
  '#1f6f8b',
];

export function initials(name: string): string {
  const words = name
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return '#';
  const first = words[0]!;
  if (words.length === 1) return first.slice(0, 2).toUpperCase();
  return (first[0]! + words.at(-1)![0]!).toUpperCase();
}

/** A round badge with the person's (or conversation's) initials, in a colour taken from the name. */
export function Avatar({ name, kind, size = 'md' }: { name: string; kind?: string; size?: 'sm' | 'md' }) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const text = kind === 'channel' ? '#' : initials(name);
  return (
    <span
      className={`avatar avatar-${size}`}
      style={{ background: AVATAR_COLOURS[h % AVATAR_COLOURS.length] }}
      aria-hidden="true"
    >
      {text}
    </span>
  );
}

/** A count with its noun in the right form: "1 member", "2 members" (English plural rules). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${new Intl.PluralRules('en').select(n) === 'one' ? one : many}`;
}
