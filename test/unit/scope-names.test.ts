import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScopeList, parseScopeNames, scopeOf, VENDOR_SCOPES } from '../../src/auth/scopes.ts';
import { Scope } from '../../src/domain/scopes.ts';

/** One reading of scope names for the CLI (--scopes text) and the API (an array of names). */

test('native names in any case, with : or .', () => {
  for (const s of Scope) {
    assert.deepEqual(scopeOf(s), [s]);
    assert.deepEqual(scopeOf(s.toUpperCase()), [s]);
    assert.deepEqual(scopeOf(s.replace(':', '.')), [s]);
    assert.deepEqual(scopeOf(` ${s} `), [s]);
  }
});

test('vendor names in any case map to their native scope; * is every scope', () => {
  for (const [vendor, native] of Object.entries(VENDOR_SCOPES)) {
    assert.deepEqual(scopeOf(vendor), [native]);
    assert.deepEqual(scopeOf(vendor.toLowerCase()), [native]);
  }
  assert.deepEqual(scopeOf('*'), [...Scope]);
});

test('unknown names are returned as given, and nothing is guessed', () => {
  for (const bad of [
    '',
    'messages',
    'messages:',
    'messages::read',
    'messages_read',
    'admin:all',
    'ZohoCliq.Chats',
  ]) {
    assert.equal(scopeOf(bad), undefined, bad);
  }
  assert.deepEqual(parseScopeNames(['messages:read', 'nope']), {
    scopes: ['messages:read'],
    unknown: ['nope'],
  });
});

test('the CLI text and the API array read the same', () => {
  const text = 'ZohoCliq.Chats.READ, Messages.Write  people:read,messages:write';
  const cli = parseScopeList(text);
  const api = parseScopeNames(['ZohoCliq.Chats.READ', 'Messages.Write', 'people:read', 'messages:write']);
  assert.deepEqual(cli, api);
  assert.deepEqual(cli.scopes, ['conversations:read', 'messages:write', 'people:read']);
});
