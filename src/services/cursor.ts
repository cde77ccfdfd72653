import { ValidationError } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';

/**
 * Opaque cursors: base64url of a small JSON array tagged with the list it belongs to, so a
 * cursor from one list is refused by another. Clients must not build or parse them.
 */
export function encodeCursor(list: string, position: (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...position])).toString('base64url');
}

/** What each position of a cursor holds: an id (decimal string), a safe integer or a short string. */
export type CursorPart = 'id' | 'int' | 'text';

const partOk = (kind: CursorPart, v: unknown): boolean =>
  kind === 'id'
    ? isId(v)
    : kind === 'int'
      ? Number.isSafeInteger(v)
      : typeof v === 'string' && v.length > 0 && v.length <= 200;

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
    parts.every((kind, i) => partOk(kind, parsed[i + 1]));
  if (!ok)
    throw ValidationError.field('query.cursor', 'is not a cursor returned by this list', 'invalid_cursor');
  return (parsed as (string | number)[]).slice(1);
}

/**
 * A page from `rows` read with limit + 1: its first `limit` rows, and the cursor of `list` after
 * the last of them when there was one more (null on the last page).
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  list: string,
  position: (last: T) => (string | number)[],
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, position(last)) : null,
  };
}
