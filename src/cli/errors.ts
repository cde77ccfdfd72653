import type { Config } from '../config.ts';
import { AppError } from '../domain/errors.ts';
import { driverErrorKind } from '../store/errors.ts';
import { CliError } from './spec.ts';

/** A URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

interface SysError {
  code?: string;
  errno?: number;
  errcode?: number;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
  hostname?: string;
  message?: string;
  errors?: SysError[];
}

/**
 * Turns the failures an operator meets (a port in use, a database that is down, missing or
 * misnamed, a data directory Parley may not write) into one line naming the cause and the fix,
 * with the exit code: 2 for usage and configuration, 1 for everything else.
 */
export function explain(
  err: unknown,
  config: Readonly<Config> | undefined,
): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof AppError) return { message: `${err.code}: ${err.message}`, exitCode: 1 };
  const e = (err ?? {}) as SysError;
  // Connecting to a name with several addresses fails with an AggregateError of all attempts.
  const first = e.code === undefined && e.errors?.[0] ? e.errors[0] : e;
  const code = e.code ?? first.code;
  const db = config?.databaseUrl ? new URL(config.databaseUrl) : undefined;
  const dbName = db ? `${db.hostname}:${db.port || 5432}` : '';
  const dbUrl = config?.databaseUrl ? redactUrl(config.databaseUrl) : '';
  switch (code) {
    case 'EADDRINUSE':
      return {
        message: `port ${first.port ?? config?.port} on ${first.address ?? config?.host} is already in use (another Parley or another server): stop that process, or set PORT to a free port`,
        exitCode: 1,
      };
    case 'ECONNREFUSED':
      return {
        message: db
          ? `the database at ${dbName} refused the connection (DATABASE_URL=${dbUrl}): start PostgreSQL there, or fix DATABASE_URL (unset it to use the embedded SQLite database)`
          : `connection refused by ${first.address}:${first.port}: start that service, or fix its URL`,
        exitCode: 1,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return {
        message: `cannot resolve the host name "${first.hostname ?? db?.hostname}"${db ? ` of DATABASE_URL=${dbUrl}` : ''}: fix the host name in the URL`,
        exitCode: 1,
      };
    case 'ETIMEDOUT':
      return {
        message: `connecting to ${first.address ?? dbName} timed out: check that the host is up and reachable (firewall), or fix DATABASE_URL`,
        exitCode: 1,
      };
    case '3D000': // invalid_catalog_name
      return {
        message: `${e.message} on ${dbName}: create it (createdb -h ${db?.hostname} -U ${decodeURIComponent(db?.username || 'postgres')} ${decodeURIComponent(db?.pathname.slice(1) ?? '')}) or fix the database name in DATABASE_URL`,
        exitCode: 1,
      };
    case '28P01':
    case '28000':
      return {
        message: `PostgreSQL at ${dbName} refused the login: ${e.message}: fix the user or password in DATABASE_URL`,
        exitCode: 1,
      };
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return {
        message: `cannot write ${first.path ?? 'the data directory'} (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}): make it writable by this user (uid ${process.getuid?.()}), or set SQLITE_PATH to a file in a writable directory`,
        exitCode: 1,
      };
    case 'ENOTDIR':
      return {
        message: `${first.path} is not a directory: set SQLITE_PATH to a file in a directory`,
        exitCode: 1,
      };
    case 'ENOSPC':
      return {
        message: `no space left on the device of ${first.path ?? 'the data directory'}: free some space`,
        exitCode: 1,
      };
  }
  if (code === 'ERR_SQLITE_ERROR') {
    const where = config ? `SQLITE_PATH=${config.sqlitePath}` : 'the SQLite database';
    const kind = driverErrorKind(err);
    if (kind === 'cannot_open')
      return {
        message: `cannot open ${where}: ${e.message}: check that its directory exists and is writable`,
        exitCode: 1,
      };
    if (kind === 'not_a_database')
      return {
        message: `${where} is not a SQLite database: point SQLITE_PATH at Parley's database file`,
        exitCode: 1,
      };
    if (kind === 'write_conflict')
      return {
        message: `${where} stayed locked (${e.message}): another process holds a long write; try again`,
        exitCode: 1,
      };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { message: `${text.split('\n')[0]} (run with --debug for the stack trace)`, exitCode: 1 };
}
