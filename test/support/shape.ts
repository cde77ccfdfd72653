import assert from 'node:assert/strict';

/**
 * Asserts that `actual` has the shape of a vendor's sample: the same keys (minus the ones
 * Parley documents as omitted), and at every leaf the same JSON type. Arrays are compared by
 * their first element.
 */
export function assertSameShape(
  actual: unknown,
  sample: unknown,
  omitted: readonly string[] = [],
  path = '$',
): void {
  const type = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  assert.equal(type(actual), type(sample), `${path}: ${type(actual)} vs sample ${type(sample)}`);
  if (Array.isArray(sample) && Array.isArray(actual)) {
    if (sample.length > 0) {
      assert.ok(actual.length > 0, `${path}: empty array, sample has items`);
      assertSameShape(actual[0], sample[0], omitted, `${path}[0]`);
    }
    return;
  }
  if (sample && typeof sample === 'object') {
    const a = actual as Record<string, unknown>;
    const s = sample as Record<string, unknown>;
    const expected = Object.keys(s).filter((k) => !omitted.includes(`${path}.${k}`));
    assert.deepEqual(Object.keys(a).sort(), expected.sort(), `${path}: keys`);
    for (const k of expected) assertSameShape(a[k], s[k], omitted, `${path}.${k}`);
  }
}
