/**
 * Native token scopes. A route names the one scope it needs; `admin` covers org
 * administration (people, tokens, departments); `support:*` the live-support queue and chats.
 * Dialect scope names map onto these, and every scope name the CLI or the API is given is read,
 * in src/auth/scopes.ts (scopeOf).
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
