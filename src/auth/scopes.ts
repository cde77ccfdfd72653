import type { Scope } from '../domain/scopes.ts';
import { parseScopes } from '../domain/scopes.ts';

/**
 * Vendor scope names, as each vendor's pages spell them, mapped onto the one native scope that
 * grants them. A dialect route names its vendor scope; the check is the native one, so a token
 * works the same on every surface. Tokens may also be issued with vendor names
 * (`parley token create --scopes "ZohoCliq.Chats.READ"`): they are stored as native scopes.
 */
export const VENDOR_SCOPES = {
  'ZohoCliq.Chats.READ': 'conversations:read',
  'ZohoCliq.Chats.CREATE': 'messages:write',
  'ZohoCliq.Chats.UPDATE': 'conversations:write',
  'ZohoCliq.Chats.DELETE': 'messages:write',
  'SalesIQ.conversations.UPDATE': 'support:write',
  'Salesiq.conversations.Delete': 'conversations:write',
} as const satisfies Record<string, Scope>;

export type VendorScope = keyof typeof VENDOR_SCOPES;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The vendor's scope name a dialect route documents (the check uses its native mapping). */
    vendorScope?: VendorScope;
  }
}

/** The native scope a vendor scope maps to. */
export function nativeScopeOf(vendor: VendorScope): Scope {
  return VENDOR_SCOPES[vendor];
}

/** Route config of a dialect route: the native scope the auth hook checks, and the vendor name. */
export function vendorScope(vendor: VendorScope): { scope: Scope; vendorScope: VendorScope } {
  return { scope: VENDOR_SCOPES[vendor], vendorScope: vendor };
}

/** Parses a scope list that may mix native and vendor names (matched case-insensitively). */
export function parseScopeList(text: string): { scopes: Scope[]; unknown: string[] } {
  const vendorByLower = new Map(Object.entries(VENDOR_SCOPES).map(([k, v]) => [k.toLowerCase(), v]));
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const mapped = parts.map((s) => vendorByLower.get(s.toLowerCase()) ?? s);
  return parseScopes(mapped.join(' '));
}
