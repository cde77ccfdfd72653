/**
 * Native token scopes. A route names the one scope it needs; `admin` covers org
 * administration (people, tokens, departments); `support:*` the live-support queue and chats.
 * Dialect scope names map onto these in src/auth/scopes.ts.
 */
export const Scope = [
  'conversations:read',
  'conversations:write',
  'messages:read',
  'messages:write',
  'people:read',
  'people:write',
  'admin',
  'support:read',
  'support:write',
] as const;
export type Scope = (typeof Scope)[number];

export function isScope(value: string): value is Scope {
  return (Scope as readonly string[]).includes(value);
}

/** Parses a space- or comma-separated scope list; unknown names are returned in `unknown`. */
export function parseScopes(text: string): { scopes: Scope[]; unknown: string[] } {
  const scopes: Scope[] = [];
  const unknown: string[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    if (part === '*') scopes.push(...Scope);
    else if (isScope(part)) scopes.push(part);
    else unknown.push(part);
  }
  return { scopes: [...new Set(scopes)], unknown };
}
