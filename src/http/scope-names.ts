import Type from 'typebox';
import { parseScopeNames } from '../auth/scopes.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Scope } from '../domain/scopes.ts';

/** Scope names in a request body, read as the CLI reads `--scopes` (src/auth/scopes.ts, scopeOf). */
export const ScopeNames = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 50,
  description:
    'Scope names, read as `parley token create --scopes` reads them: native (`messages:write`), a vendor name (`ZohoCliq.Chats.READ`) or `*` (all); any case, `.` for `:`. Unknown names are `invalid_scopes` (400).',
});

/** The body's scope names as native scopes, or `invalid_scopes` (400) naming each unknown one by its path. */
export function scopesOfBody(names: readonly string[], path = 'body.scopes'): Scope[] {
  const { scopes, unknown } = parseScopeNames(names);
  if (unknown.length > 0)
    throw new ValidationError(
      'invalid_scopes',
      `Unknown scope${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')} (see docs/api.md#scopes)`,
      names.flatMap((n, i) =>
        unknown.includes(n) ? [{ path: `${path}[${i}]`, problem: 'is not a scope name' }] : [],
      ),
    );
  return scopes;
}
