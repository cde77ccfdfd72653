import { isScope, Scope } from '../domain/scopes.ts';

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

const vendorByKey = new Map<string, Scope>(
  Object.entries(VENDOR_SCOPES).map(([k, v]) => [k.toLowerCase(), v]),
);

/**
 * The one reading of a scope name, shared by the CLI (`parley token create --scopes`) and the
 * API (`POST /v1/tokens`): a native name (`messages:write`), a vendor name
 * (`ZohoCliq.Chats.READ`), or `*` (every native scope); case does not matter, and a native name
 * may use `.` instead of `:` (`Messages.Write`). Surrounding blanks are ignored. Returns the
 * native scopes, or undefined for a name it does not know.
 */
export function scopeOf(name: string): Scope[] | undefined {
  const key = name.trim().toLowerCase();
  if (key === '*') return [...Scope];
  const vendor = vendorByKey.get(key);
  if (vendor) return [vendor];
  const native = key.replace('.', ':');
  return isScope(native) ? [native] : undefined;
}

/** Reads scope names (see scopeOf): the native scopes, without duplicates, and the names it did not know. */
export function parseScopeNames(names: readonly string[]): { scopes: Scope[]; unknown: string[] } {
  const scopes = new Set<Scope>();
  const unknown: string[] = [];
  for (const name of names) {
    const found = scopeOf(name);
    if (found) for (const s of found) scopes.add(s);
    else unknown.push(name);
  }
  return { scopes: [...scopes], unknown };
}

/** A scope list as text (the CLI's `--scopes`): names separated by blanks or commas, read by scopeOf. */
export function parseScopeList(text: string): { scopes: Scope[]; unknown: string[] } {
  return parseScopeNames(text.split(/[\s,]+/).filter(Boolean));
}
