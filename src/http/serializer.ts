import fastJsonStringify from 'fast-json-stringify';

/**
 * Fastify's response serializer (fast-json-stringify), given each route's response schema with
 * `anyOf: [X, null]` rewritten as X with `nullable: true`.
 *
 * Why: fast-json-stringify serializes an `anyOf` by validating the value against each branch
 * with Ajv until one matches, so a nullable object (a conversation's `me` and `last_message`,
 * a member's state) was validated in full, formats included, for every item of every page
 * before it was written: about a tenth of the list's CPU on PostgreSQL. With `nullable` it
 * writes `null` for null and serializes the value by its schema otherwise, with no validation,
 * and the JSON is the same. The route schemas themselves (the OpenAPI document, the request
 * validation) keep their `anyOf`; only the serializer's copy changes.
 */
export function buildSerializer(externalSchemas: unknown, serializerOpts: unknown) {
  const external = (externalSchemas ?? {}) as Record<string, unknown>;
  return ({ schema }: { schema: unknown }): ((doc: unknown) => string) => {
    const s = schema as { $id?: string };
    // As @fastify/fast-json-stringify-compiler does: a shared schema is not its own external.
    let own = external;
    if (s.$id && own[s.$id]) {
      own = { ...own };
      delete own[s.$id];
    }
    return fastJsonStringify(
      nullableForSerializer(schema) as never,
      {
        ...(serializerOpts as object),
        schema: own,
      } as never,
    ) as unknown as (doc: unknown) => string;
  };
}

const SIMPLE = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function isNullSchema(s: unknown): boolean {
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'null';
}

/**
 * A copy of `schema` where every `anyOf` of exactly one simply typed schema and `{type: 'null'}`
 * (TypeBox's `Type.Union([X, Type.Null()])`, the API's Nullable) is that schema with
 * `nullable: true`. Anything else is copied as it is, its subschemas rewritten the same way.
 */
export function nullableForSerializer(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableForSerializer);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Record<string, unknown>;
  const anyOf = s.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some(isNullSchema)) {
    const other = anyOf.find((x) => !isNullSchema(x)) as Record<string, unknown> | undefined;
    if (
      other &&
      typeof other.type === 'string' &&
      SIMPLE.has(other.type) &&
      other.anyOf === undefined &&
      other.oneOf === undefined &&
      other.allOf === undefined &&
      other.$ref === undefined &&
      other.nullable === undefined
    ) {
      const { anyOf: _, ...siblings } = s;
      return { ...(nullableForSerializer(other) as object), ...siblings, nullable: true };
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s))
    out[k] = k === 'enum' || k === 'const' || k === 'default' ? v : nullableForSerializer(v);
  return out;
}
