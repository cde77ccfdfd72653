/**
 * What a database driver's error means, on either database. The store is the only place that
 * knows PostgreSQL's SQLSTATEs and node:sqlite's extended result codes; services and http ask
 * `driverErrorKind` and map the answer to their own errors.
 *
 * - `unique_violation`: a unique or primary-key constraint refused the write (PG 23505,
 *   SQLite 2067/1555).
 * - `invalid_text`: PostgreSQL refused a value it cannot store in text (U+0000, or bytes its
 *   encoding cannot hold: 22021, 22P05). A bad input, not a fault.
 * - `write_conflict`: two writes could not both go on (PG deadlock 40P01 or serialization
 *   failure 40001; SQLite busy or locked past busy_timeout, 5/6). Nothing of this write was
 *   made; trying again is the cure.
 * - `unavailable`: the database cannot be reached or is restarting (refused or reset
 *   connections, PG admin shutdown and connection-exception classes, pg's messages for a
 *   connection that died).
 * - `cannot_open` / `not_a_database`: the SQLite file cannot be opened (14) or is not a SQLite
 *   database (26); met at start-up by the CLI.
 */
export type DriverErrorKind =
  | 'unique_violation'
  | 'invalid_text'
  | 'write_conflict'
  | 'unavailable'
  | 'cannot_open'
  | 'not_a_database';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);

const DEAD_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

export function driverErrorKind(err: unknown): DriverErrorKind | null {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === 'ERR_SQLITE_ERROR') {
    switch (e.errcode) {
      case 2067:
      case 1555:
        return 'unique_violation';
      case 5:
      case 6:
        return 'write_conflict';
      case 14:
        return 'cannot_open';
      case 26:
        return 'not_a_database';
    }
    return null;
  }
  switch (code) {
    case '23505':
      return 'unique_violation';
    case '22021':
    case '22P05':
      return 'invalid_text';
    case '40P01':
    case '40001':
      return 'write_conflict';
  }
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return 'unavailable';
  if (typeof e.message === 'string' && DEAD_CONNECTION.test(e.message)) return 'unavailable';
  return null;
}

/** True when a write failed on a unique or primary-key constraint, on either database. */
export function isUniqueViolation(err: unknown): boolean {
  return driverErrorKind(err) === 'unique_violation';
}
