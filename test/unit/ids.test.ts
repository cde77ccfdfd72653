import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdGenerator, idTime, isId, normalizeId } from '../../src/domain/ids.ts';

test('ids are strictly increasing decimal strings that carry their time', () => {
  let now = Date.UTC(2026, 0, 1);
  const gen = createIdGenerator(5, () => now);
  const ids = Array.from({ length: 10_000 }, () => gen.next());
  for (let i = 1; i < ids.length; i++) assert.ok(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `at ${i}`);
  assert.ok(ids.every(isId));
  assert.ok(idTime(ids[0]!) >= Date.UTC(2026, 0, 1));
  now -= 5000; // the clock steps back: ids still increase
  const later = gen.next();
  assert.ok(BigInt(later) > BigInt(ids.at(-1)!));
});

test('two nodes never make the same id in the same millisecond', () => {
  const now = () => Date.UTC(2026, 0, 1);
  const a = createIdGenerator(1, now);
  const b = createIdGenerator(2, now);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    seen.add(a.next());
    seen.add(b.next());
  }
  assert.equal(seen.size, 2000);
  assert.throws(() => createIdGenerator(1024), RangeError);
});

test('isId and normalizeId accept only 64-bit positive decimal ids', () => {
  assert.equal(isId('1'), true);
  assert.equal(isId('9223372036854775807'), true);
  assert.equal(isId('9223372036854775808'), false);
  for (const bad of ['', '0', '-1', '1.5', 'abc', '12345678901234567890', ' 1', 1 as unknown])
    assert.equal(isId(bad), false, String(bad));
  assert.equal(normalizeId('0012'), '12');
  assert.equal(normalizeId(42), '42');
  assert.equal(
    normalizeId(2 ** 60),
    undefined,
    'unsafe numbers never arrive as numbers: the JSON parser keeps them as text',
  );
});
