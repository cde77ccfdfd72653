import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { driverErrorKind, isUniqueViolation } from '../../src/store/errors.ts';

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
};

test('SQLite driver errors are classified from the real driver', () => {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)');
  db.exec("INSERT INTO t VALUES (1, 'a')");
  const unique = thrown(() => db.exec("INSERT INTO t VALUES (2, 'a')"));
  assert.equal(driverErrorKind(unique), 'unique_violation');
  assert.equal(isUniqueViolation(unique), true);
  const primary = thrown(() => db.exec("INSERT INTO t VALUES (1, 'b')"));
  assert.equal(driverErrorKind(primary), 'unique_violation');
  const syntax = thrown(() => db.exec('SELEC 1'));
  assert.equal(driverErrorKind(syntax), null);
  assert.equal(isUniqueViolation(syntax), false);

  const dir = mkdtempSync(join(tmpdir(), 'parley-driver-errors-'));
  const notDb = join(dir, 'not.db');
  writeFileSync(notDb, 'this is not a database file, just text that is long enough'.repeat(20));
  const bad = thrown(() => new DatabaseSync(notDb).exec('SELECT * FROM sqlite_master'));
  assert.equal(driverErrorKind(bad), 'not_a_database');
  const missing = thrown(() => new DatabaseSync(join(dir, 'no', 'such', 'dir.db')));
  assert.equal(driverErrorKind(missing), 'cannot_open');
});

test('PostgreSQL SQLSTATEs and connection failures are classified', () => {
  const pg = (code: string) => Object.assign(new Error('x'), { code });
  assert.equal(driverErrorKind(pg('23505')), 'unique_violation');
  assert.equal(driverErrorKind(pg('22021')), 'invalid_text');
  assert.equal(driverErrorKind(pg('22P05')), 'invalid_text');
  assert.equal(driverErrorKind(pg('40P01')), 'write_conflict');
  assert.equal(driverErrorKind(pg('40001')), 'write_conflict');
  assert.equal(driverErrorKind(pg('57P01')), 'unavailable');
  assert.equal(driverErrorKind(pg('ECONNREFUSED')), 'unavailable');
  assert.equal(driverErrorKind(new Error('Connection terminated unexpectedly')), 'unavailable');
  assert.equal(driverErrorKind(pg('42601')), null);
  assert.equal(driverErrorKind(null), null);
  assert.equal(driverErrorKind('text'), null);
});
