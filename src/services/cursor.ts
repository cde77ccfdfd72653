import { ValidationError } from '../domain/errors.ts';

/**
 * Opaque cursors: base64url of a small JSON array tagged with the list it belongs to, so a
 * cursor from one list is refused by another. Clients must not build or parse them.
 */
export function encodeCursor(list: string, position: (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...position])).toString('base64url');
}

/** Decodes a cursor made by encodeCursor for `list`; anything else is `invalid_cursor` (400). */
export function decodeCursor(cursor: string, list: string): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== list ||
    parsed.length < 2 ||
    !parsed
      .slice(1)
      .every((v) => (typeof v === 'string' && /^[0-9]{1,19}$/.test(v)) || Number.isSafeInteger(v))
  ) {
    throw ValidationError.field('query.cursor', 'is not a cursor returned by this list', 'invalid_cursor');
  }
  return parsed.slice(1) as (string | number)[];
}
