import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastJsonStringify from 'fast-json-stringify';
import Type from 'typebox';
import { ConversationSchema } from '../../src/http/schemas/conversations.ts';
import { Nullable, Timestamp } from '../../src/http/schemas.ts';
import { buildSerializer, nullableForSerializer } from '../../src/http/serializer.ts';

/**
 * The response serializer writes nullable values without validating them first
 * (src/http/serializer.ts): the JSON must be byte for byte what fast-json-stringify wrote from the
 * route's own schema, the route's schema must stay as it was, and unions that are not
 * "X or null" must stay unions.
 */
const opts = { ajv: { formats: { 'parley-id': /^[0-9]{1,19}$/ } } };
const stock = (schema: unknown) =>
  fastJsonStringify(schema as never, opts as never) as unknown as (v: unknown) => string;
const ours = (schema: unknown) => buildSerializer({}, opts)({ schema });

const conversation = (over: Record<string, unknown> = {}) => ({
  id: '906389691303890944',
  kind: 'group',
  title: 'Ops "room" \u2028 é',
  creator_id: '906389691303890945',
  participant_count: 3,
  created_at: '2026-12-05T03:00:00.000Z',
  updated_at: '2026-12-05T03:00:01.000Z',
  last_activity_at: '2026-12-05T03:00:02.000Z',
  last_message: {
    id: '906389691303890946',
    sender_id: '906389691303890945',
    sender_name: null,
    type: 'text',
    text: 'hi </script>',
    created_at: '2026-12-05T03:00:02.000Z',
    deleted: false,
  },
  unread_count: 2,
  mention_count: 0,
  muted: false,
  me: null,
  ...over,
});

test('a conversation page serializes to the same bytes as from the route schema', () => {
  const schema = Type.Object({ items: Type.Array(ConversationSchema), next_cursor: Nullable(Type.String()) });
  const values = [
    { items: [conversation()], next_cursor: null },
    { items: [conversation({ title: null, last_message: null }), conversation()], next_cursor: 'abc' },
    { items: [], next_cursor: 'x' },
  ];
  const a = stock(schema);
  const b = ours(schema);
  for (const v of values) assert.equal(b(v), a(v));
});

test('X or null becomes X with nullable; the route schema is not changed', () => {
  const schema = Type.Object({ at: Nullable(Timestamp), n: Nullable(Type.Integer()) });
  const before = JSON.stringify(schema);
  const out = nullableForSerializer(schema) as { properties: Record<string, Record<string, unknown>> };
  assert.equal(JSON.stringify(schema), before);
  assert.deepEqual(
    {
      type: out.properties.at!.type,
      format: out.properties.at!.format,
      nullable: out.properties.at!.nullable,
    },
    { type: 'string', format: 'date-time', nullable: true },
  );
  assert.equal(out.properties.at!.anyOf, undefined);
  assert.equal(out.properties.n!.nullable, true);
  const s = ours(schema);
  assert.equal(s({ at: null, n: null }), '{"at":null,"n":null}');
  assert.equal(s({ at: '2026-12-05T03:00:00.000Z', n: 7 }), '{"at":"2026-12-05T03:00:00.000Z","n":7}');
});

test('other unions keep their anyOf, and still pick their branch', () => {
  const schema = Type.Object({
    v: Type.Union([Type.String(), Type.Integer(), Type.Null()]),
    w: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Integer() })]),
  });
  const out = nullableForSerializer(schema) as { properties: Record<string, { anyOf?: unknown[] }> };
  assert.equal(out.properties.v!.anyOf!.length, 3);
  assert.equal(out.properties.w!.anyOf!.length, 2);
  const a = stock(schema);
  const b = ours(schema);
  for (const v of [
    { v: 'x', w: { a: 'y' } },
    { v: 3, w: { b: 4 } },
    { v: null, w: { a: 'z' } },
  ])
    assert.equal(b(v), a(v));
});
