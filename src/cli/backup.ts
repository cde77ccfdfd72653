import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync, backup as sqliteBackup } from 'node:sqlite';
import { redactUrl } from './errors.ts';
import { CliError, type Invocation, printJson } from './spec.ts';

/**
 * `parley backup <file>`: SQLite's online backup of the embedded database, safe while a server
 * writes to it. The whole database is copied in one step (a read transaction: in WAL mode it
 * does not block writers, and no writer can make it restart), then the copy is checked.
 */
export async function backup({ values, positionals, config }: Invocation): Promise<undefined> {
  const target = resolve(positionals[0]!);
  if (config.databaseUrl) {
    throw new CliError(
      `parley backup copies the embedded SQLite database; on PostgreSQL use pg_dump: pg_dump --format=custom --file=${target} '${redactUrl(config.databaseUrl)}' (restore with pg_restore --clean --dbname=URL ${target})`,
    );
  }
  const source = resolve(config.sqlitePath);
  if (!existsSync(source))
    throw new CliError(
      `no database at SQLITE_PATH=${config.sqlitePath}: set SQLITE_PATH to Parley's database file`,
    );
  if (source === target) throw new CliError('<file> is the database itself: name another file');
  if (existsSync(target)) {
    if (!values.force)
      throw new CliError(`${target} exists: name a new file, or pass --force to overwrite it`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
  }
  const started = Date.now();
  const db = new DatabaseSync(source, { readOnly: true, timeout: 5000 });
  let pages: number;
  try {
    pages = await sqliteBackup(db, target, { rate: 2 ** 31 - 1 });
  } finally {
    db.close();
  }
  const copy = new DatabaseSync(target, { readOnly: true });
  const check = copy.prepare('PRAGMA quick_check').get() as { quick_check: string };
  copy.close();
  if (check.quick_check !== 'ok')
    throw new CliError(`the copy ${target} failed its check: ${check.quick_check}`);
  const result = { file: target, bytes: statSync(target).size, pages, ms: Date.now() - started };
  if (values.json) printJson(result);
  else process.stdout.write(`Backed up ${source} to ${target} (${result.bytes} bytes, ${result.ms} ms).\n`);
  return undefined;
}
