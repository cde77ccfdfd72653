import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The website chat widget: its configuration, who may embed it (origins), the signed identity
 * of known customers, and the limits on its public endpoints. Pure rules, no I/O.
 */

export const PrechatField = ['name', 'email', 'question'] as const;
export type PrechatField = (typeof PrechatField)[number];

/** Whether a pre-chat field is asked, and whether the visitor must answer it. */
export const FieldMode = ['required', 'optional', 'hidden'] as const;
export type FieldMode = (typeof FieldMode)[number];

export type Prechat = Record<PrechatField, FieldMode>;

export const DEFAULT_PRECHAT: Prechat = { name: 'optional', email: 'optional', question: 'required' };

export interface Widget {
  id: string;
  orgId: string;
  /** Public: it goes in the embed snippet and the iframe's URL. */
  publicKey: string;
  /** Private: signs known customers' ids (HMAC-SHA256); shown to admins only. */
  secret: string;
  name: string;
  /** Origins (`scheme://host[:port]`) allowed to embed the widget and call its endpoints. */
  allowedOrigins: string[];
  /** Departments the visitor may choose from, in this order (the first is the default). */
  departmentIds: string[];
  prechat: Prechat;
  greeting: string;
  offlineMessage: string;
  /** `#rrggbb`. */
  colour: string;
  createdAt: number;
  updatedAt: number;
}

/** What a widget chat remembers of how it started. */
export interface WidgetChat {
  conversationId: string;
  orgId: string;
  widgetId: string;
  visitorId: string;
  pageUrl: string | null;
  email: string | null;
  offline: boolean;
  createdAt: number;
}

export const Availability = ['available', 'away'] as const;
export type Availability = (typeof Availability)[number];

export interface CannedResponse {
  id: string;
  orgId: string;
  shortcut: string;
  title: string;
  text: string;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Limits of the widget's endpoints (per node, or shared through Redis). */
export const WIDGET_LIMITS = {
  /** Requests of one client address to one widget's endpoints, per minute. */
  perIpPerMinute: 120,
  /** New visitor sessions from one client address, per minute. */
  sessionsPerIpPerMinute: 10,
  /** Requests to one widget's endpoints from everyone, per minute. */
  perWidgetPerMinute: 6000,
} as const;

/** A visitor credential lasts this long; a chat started with it continues on reload meanwhile. */
export const VISITOR_SESSION_MS = 30 * 24 * 60 * 60 * 1000;

export const VISITOR_TOKEN_PREFIX = 'pv_';

export const MAX_ORIGINS = 50;
export const MAX_WIDGET_DEPARTMENTS = 50;

/**
 * The canonical form of an origin (`https://example.com`, `http://localhost:3000`): lower
 * case, no default port, no path. null when `text` is not an http(s) origin.
 */
export function canonicalOrigin(text: string): string | null {
  if (!/^https?:\/\/[^/?#\s]+\/?$/i.test(text)) return null;
  try {
    const u = new URL(text);
    if (u.username || u.password) return null;
    return u.origin;
  } catch {
    return null;
  }
}

/** Whether the page origin `origin` (as a browser sends it) may use the widget. */
export function originAllowed(w: Pick<Widget, 'allowedOrigins'>, origin: string): boolean {
  const o = canonicalOrigin(origin);
  return o !== null && w.allowedOrigins.includes(o);
}

/** The signature a site computes for its user id: lowercase hex HMAC-SHA256(user_id, secret). */
export function identitySignature(userId: string, secret: string): string {
  return createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
}

/** Constant-time check of a presented identity signature. */
export function identityMatches(userId: string, signature: string, secret: string): boolean {
  const expected = Buffer.from(identitySignature(userId, secret));
  const presented = Buffer.from(signature.toLowerCase());
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export const COLOUR = /^#[0-9a-fA-F]{6}$/;

/** Canned-response shortcuts: typed after `/` in the composer. */
export const SHORTCUT = /^[a-z0-9][a-z0-9_-]{0,31}$/;
