import { ValidationError } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';

/**
 * Opaque cursors: base64url of a small JSON array tagged with the list it belongs to, so a
 * cursor from one list is refused by another. Clients must not build or parse them.
 */
export function encodeCursor(list: string, position: (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...position])).toString('base64url');
}

/** What each position of a cursor holds: an id (decimal string) or a safe integer. */
export type CursorPart = 'id' | 'int';

/**
 * Decodes a cursor made by encodeCursor for `list` with exactly the positions `parts`;
 * anything else (another list's cursor, edited or truncated text) is `invalid_cursor` (400).
 */
export function decodeCursor(
  cursor: string,
  list: string,
  parts: readonly CursorPart[],
): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    Array.isArray(parsed) &&
    parsed[0] === list &&
    parsed.length === parts.length + 1 &&
    parts.every((kind, i) => (kind === 'id' ? isId(parsed[i + 1]) : Number.isSafeInteger(parsed[i + 1])));
  if (!ok)
    throw ValidationError.field('query.cursor', 'is not a cursor returned by this list', 'invalid_cursor');
  return (parsed as (string | number)[]).slice(1);
}
