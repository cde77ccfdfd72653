import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, ENV_VARS, loadConfig } from '../../src/config.ts';

test('defaults give a laptop setup on SQLite', () => {
  const c = loadConfig({ NODE_ID: '3' });
  assert.equal(c.port, 8080);
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.sqlitePath, './data/parley.db');
  assert.equal(c.nodeId, 3);
  assert.ok(Object.isFrozen(c));
});

test('every problem is reported at once', () => {
  try {
    loadConfig({ PORT: 'x', DATABASE_URL: 'mysql://h/db', NODE_ID: '5000', LOG_LEVEL: 'loud' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 4, err.problems.join('\n'));
  }
});

test('docs/operations.md documents exactly the variables the config reads', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('## Health'));
  const documented = [...section.matchAll(/^\| `([A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...ENV_VARS].sort());
});
