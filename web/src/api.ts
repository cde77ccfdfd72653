/** The console's only way to the server: `/v1` on the same origin, a bearer token header. */

const TOKEN_KEY = 'parley.token';

/** Stands for "the session cookie" (an OpenID Connect sign-in) instead of a bearer token. */
export const COOKIE_SESSION = 'cookie-session';

/** The CSRF token of the console session (the parley_csrf cookie), or null without a session. */
export function csrfToken(): string | null {
  const m = /(?:^|;\s*)parley_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : null;
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? (csrfToken() ? COOKIE_SESSION : null);
}
export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  status: number;
  code: string;
  details: unknown;
  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface Person extends Actor {
  external_id?: string | null;
  active?: boolean;
  created_at?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Actor {
  id: string;
  name: string;
  email?: string | null;
  kind?: string;
  role?: string | null;
}

export interface Me {
  actor: Actor & { role?: string };
  scopes: string[];
  org?: { id: string; name?: string; slug?: string };
}

export interface MemberState {
  role: string;
  muted: boolean;
  muted_until: number | null;
  unread_count: number;
  draft: string | null;
  hidden: boolean;
  pinned: boolean;
}

export interface Message {
  id: string;
  conversation_id: string;
  sender_id: string;
  type: string;
  text: string;
  reply_to_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

export interface Conversation {
  id: string;
  kind: string;
  title: string | null;
  participant_count: number;
  last_activity_at: string;
  last_message: Message | null;
  unread_count: number;
  /** Team chat: mentions of you after your read position (separate from unread). */
  mention_count?: number;
  muted: boolean;
  me: MemberState | null;
}

export interface Pin {
  conversation_id: string;
  message: Message;
  creator: { id: string; name: string };
  expiry_time: number;
}

export interface SupportChat {
  id: string;
  reference_id: string;
  state: string;
  question: string | null;
  department: { id: string; name: string } | null;
  visitor: {
    id: string;
    name: string;
    email: string | null;
    phone: string | null;
    country: string | null;
    channel: string | null;
    external_id: string | null;
  } | null;
  owner: Actor | null;
  attender: Actor | null;
  created_at: string;
}

export interface BinItem {
  id: string;
  kind?: string;
  title?: string | null;
  deleted_at?: string;
  purge_at?: string;
  [key: string]: unknown;
}

export interface DeletionJob {
  id: string;
  status: string;
  dry_run: boolean;
  selector: Record<string, unknown>;
  submitted_at: string;
  finished_at: string | null;
  progress: { conversations_total: number | null; conversations_done: number; percent: number | null };
  counts: { conversations_deleted: number; messages_deleted: number; conversations_skipped: number };
  error: unknown;
  [key: string]: unknown;
}

let clientSeq = 0;
export function newClientId(prefix = 'web'): string {
  clientSeq += 1;
  return `${prefix}-${Date.now().toString(36)}-${clientSeq}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * `onUnauthorized` runs when a call is refused with 401 (the token was revoked, expired or its
 * actor deactivated): the app signs out with a plain message.
 */
export function createApi(token: string, onUnauthorized?: (err: ApiError) => void) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== COOKIE_SESSION) headers.authorization = `Bearer ${token}`;
    else if (method !== 'GET') headers['x-csrf-token'] = csrfToken() ?? '';
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection.', null);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (json as { error?: { code: string; message: string; details: unknown } } | undefined)
        ?.error;
      const failure = new ApiError(
        res.status,
        err?.code ?? 'http_error',
        err?.message ?? `HTTP ${res.status}`,
        err?.details,
      );
      if (res.status === 401) onUnauthorized?.(failure);
      throw failure;
    }
    return json as T;
  }
  return {
    token,
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body),
    patch: <T>(path: string, body?: unknown) => call<T>('PATCH', path, body),
    del: <T>(path: string, body?: unknown) => call<T>('DELETE', path, body),
  };
}

export type Api = ReturnType<typeof createApi>;

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
