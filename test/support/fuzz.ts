import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { RouteInfo } from '../../src/http/content.ts';

/**
 * Fuzzing helpers shared by test/security/fuzz-*.test.ts: requests generated from the app's own
 * OpenAPI document (so a new route is fuzzed without touching the tests) and then mutated, the
 * error-shape checkers of each surface, and a snapshot of every table to prove that a refused
 * request changed nothing.
 */

/** `npm run test:soak` sets PARLEY_SOAK=1: every fuzz runs 20 times as many cases. */
export const SOAK = process.env.PARLEY_SOAK === '1';
export const scale = (n: number): number => (SOAK ? n * 20 : n);

/** The fast-check seed: PARLEY_FUZZ_SEED replays a failing run (every run prints its seed). */
export const FUZZ_SEED = process.env.PARLEY_FUZZ_SEED
  ? Number(process.env.PARLEY_FUZZ_SEED)
  : Math.floor(Math.random() * 0x7fffffff);

export function out(line: string): void {
  process.stdout.write(`# ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Database snapshots

export interface TableSnapshot {
  count: number;
  hash: string;
  rows: string[];
}
export type DbSnapshot = Map<string, TableSnapshot>;

const tableNames = new WeakMap<object, string[]>();

const jsonSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * Every table (migrations' bookkeeping excluded) with its row count, its rows as sorted JSON
 * lines, and a hash of them: two snapshots are equal exactly when no row was added, removed or
 * changed. Meant for the small databases of the fuzz suites.
 */
export async function snapshotDb(db: Kysely<any>): Promise<DbSnapshot> {
  let names = tableNames.get(db);
  if (!names) {
    names = (await db.introspection.getTables())
      .map((t) => t.name)
      .filter((n) => !n.startsWith('kysely_'))
      .sort();
    tableNames.set(db, names);
  }
  const snap: DbSnapshot = new Map();
  for (const name of names) {
    const rows = (await db.selectFrom(name).selectAll().execute())
      .map((r) => JSON.stringify(r, jsonSafe))
      .sort();
    snap.set(name, {
      count: rows.length,
      hash: createHash('sha256').update(rows.join('\n')).digest('hex'),
      rows,
    });
  }
  return snap;
}

export interface TableDiff {
  table: string;
  added: string[];
  removed: string[];
}

/** The tables whose rows differ between two snapshots, with the rows added and removed. */
export function diffSnapshots(before: DbSnapshot, after: DbSnapshot): TableDiff[] {
  const diffs: TableDiff[] = [];
  for (const [table, b] of before) {
    const a = after.get(table);
    if (a && a.hash === b.hash) continue;
    const was = new Set(b.rows);
    const now = new Set(a?.rows ?? []);
    diffs.push({
      table,
      added: [...now].filter((r) => !was.has(r)),
      removed: [...was].filter((r) => !now.has(r)),
    });
  }
  for (const table of after.keys())
    if (!before.has(table)) diffs.push({ table, added: after.get(table)!.rows, removed: [] });
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Operations from the OpenAPI document

export type JsonSchema = Record<string, any>;

export interface Param {
  in: 'path' | 'query' | 'header';
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  /** The OpenAPI path, `{name}` for parameters. */
  path: string;
  params: Param[];
  body: JsonSchema | null;
  bodyRequired: boolean;
}

function deref(schema: unknown, components: Record<string, JsonSchema>, depth = 0): any {
  if (depth > 20 || !schema || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => deref(s, components, depth + 1));
  const s = schema as JsonSchema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return deref(components[name] ?? {}, components, depth + 1);
  }
  const outSchema: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) outSchema[k] = deref(v, components, depth + 1);
  return outSchema;
}

/** Every operation the app describes at /openapi.json, with `$ref`s resolved. */
export async function loadOperations(app: FastifyInstance): Promise<Operation[]> {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200, 'GET /openapi.json');
  const doc = res.json() as {
    paths: Record<string, Record<string, any>>;
    components?: { schemas?: Record<string, JsonSchema> };
  };
  const components = doc.components?.schemas ?? {};
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params: Param[] = (op.parameters ?? []).map((p: any) => ({
        in: p.in,
        name: p.name,
        required: p.required === true,
        schema: deref(p.schema ?? {}, components),
      }));
      const content = op.requestBody?.content?.['application/json'];
      ops.push({
        method: method.toUpperCase(),
        path,
        params,
        body: content ? deref(content.schema ?? {}, components) : null,
        bodyRequired: op.requestBody?.required === true,
      });
    }
  }
  return ops;
}

/** Routes that are not in the OpenAPI document on purpose (docs, probes, the WebSocket). */
const UNDOCUMENTED = /^\/(docs(\/.*)?|healthz|readyz|openapi\.json|v1\/stream|v1\/widget\/stream|\*)$/;

/**
 * Fails when the app serves a route that the OpenAPI document (and so the fuzz) does not know:
 * a new route is fuzzed automatically as long as it is documented.
 */
export function assertEveryRouteDocumented(routes: readonly RouteInfo[], ops: readonly Operation[]): void {
  const documented = new Set(ops.map((o) => `${o.method} ${o.path.replace(/\/$/, '')}`));
  const missing = routes
    .filter((r) => !UNDOCUMENTED.test(r.url))
    .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\/$/, '')}`)
    .filter((k) => !documented.has(k));
  assert.deepEqual(missing, [], 'routes missing from /openapi.json are not fuzzed');
}

// ---------------------------------------------------------------------------------------------
// Values from schemas

/** Real values to use for path parameters and ids, so part of the fuzz reaches the services. */
export interface Pools {
  /** By parameter name (`id`, `messageId`, `CHAT_ID`, `screen_name`, ...). */
  params: Record<string, string[]>;
  /** Any real id, for id-shaped body fields. */
  ids: string[];
  /** Real values for body fields and query parameters, by name (`cId`, `FromUserId`, ...). */
  fields?: Record<string, unknown[]>;
}

const ID_PATTERN = '^[0-9]{1,19}$';
const isIdSchema = (s: JsonSchema) => s.format === 'parley-id' || s.pattern === ID_PATTERN;

function typesOf(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === 'string') return [s.type];
  if (s.properties) return ['object'];
  return [];
}

/** A value the schema accepts (mostly: patterns and formats are approximated), bounded in size. */
export function schemaValue(schema: JsonSchema, pools: Pools, depth = 0): fc.Arbitrary<unknown> {
  const s = schema ?? {};
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts) && alts.length > 0)
    return fc.oneof(...alts.map((a: JsonSchema) => schemaValue(a, pools, depth)));
  const types = typesOf(s);
  if (types.length === 0) return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...types.map((t) => schemaValueOfType(t, s, pools, depth)));
}

function schemaValueOfType(type: string, s: JsonSchema, pools: Pools, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string': {
      if (isIdSchema(s) && pools.ids.length > 0)
        return fc.oneof(fc.constantFrom(...pools.ids), fc.stringMatching(/^[1-9][0-9]{0,17}$/));
      if (s.format === 'date-time')
        return fc
          .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (s.format === 'email') return fc.emailAddress();
      if (s.format === 'uri' || s.format === 'url') return fc.webUrl();
      const minLength = s.minLength ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxLength ?? 24, 24));
      if (typeof s.pattern === 'string') {
        try {
          return fc
            .stringMatching(new RegExp(s.pattern))
            .filter((v) => v.length >= minLength && v.length <= (s.maxLength ?? Number.POSITIVE_INFINITY));
        } catch {
          // a pattern JavaScript cannot compile: fall back to any string
        }
      }
      return fc.string({ minLength, maxLength });
    }
    case 'integer':
      return fc.integer({
        min: Math.max(s.minimum ?? -1_000_000, Number.MIN_SAFE_INTEGER),
        max: Math.min(s.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: s.minimum ?? -1e9,
        max: s.maximum ?? 1e9,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 4, 4));
      if (depth > 3) return fc.constant([]);
      return fc.array(schemaValue(s.items ?? {}, pools, depth + 1), { minLength, maxLength });
    }
    case 'object': {
      if (depth > 3) return fc.constant({});
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const keys = Object.keys(props);
      if (keys.length === 0)
        return s.additionalProperties === false
          ? fc.constant({})
          : fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
              maxKeys: 3,
            });
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const k of keys) {
        const real = pools.fields?.[k] ?? [];
        model[k] =
          real.length > 0
            ? fc.oneof(fc.constantFrom(...real), schemaValue(props[k]!, pools, depth + 1))
            : schemaValue(props[k]!, pools, depth + 1);
      }
      return fc.record(model, { requiredKeys: (s.required ?? []) as string[] });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** A JSON value whose type differs from every type the schema allows. */
function wrongTypeOf(schema: JsonSchema): fc.Arbitrary<unknown> {
  const allowed = new Set(
    [schema, ...((schema?.anyOf ?? schema?.oneOf ?? []) as JsonSchema[])].flatMap((s) => typesOf(s)),
  );
  const candidates: [string, fc.Arbitrary<unknown>][] = [
    ['string', fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', 'true', '1', 'null', '[]'))],
    ['integer', fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 53 + 1, 1e300))],
    ['number', fc.constantFrom(0.5, -0.25, 1e-300)],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['array', fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })],
    ['object', fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })],
  ];
  const wrong = candidates.filter(
    ([t]) =>
      !allowed.has(t) &&
      !(t === 'integer' && allowed.has('number')) &&
      !(t === 'number' && allowed.has('integer')),
  );
  return fc.oneof(...(wrong.length > 0 ? wrong : candidates).map(([, a]) => a));
}

// ---------------------------------------------------------------------------------------------
// Hostile text and bytes

/** encodeURIComponent that does not throw on lone surrogates (they become U+FFFD). */
export const enc = (v: string): string => encodeURIComponent(v.toWellFormed());

/** Strings a parser or a database may choke on. */
export const nastyString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '-1',
    '0',
    '1e309',
    'NaN',
    '9223372036854775808',
    '99999999999999999999999999',
    '１２３',
    '٣',
    '\u202e\u0000\ud800',
    '💩'.repeat(20),
    "'; DROP TABLE message; --",
    '%s%n%x',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    '\r\nX-Injected: 1',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Path segments (already URL-encoded where needed): huge, negative, non-numeric, unicode, malformed. */
export const nastySegment = fc.oneof(
  fc.constantFrom(
    '0',
    '-1',
    '-9223372036854775808',
    '9223372036854775807',
    '9223372036854775808',
    '18446744073709551616',
    '99999999999999999999999999999999',
    '1e3',
    '0x10',
    '1.5',
    '+1',
    '%201',
    'abc',
    'null',
    '__proto__',
    'constructor',
    '%EF%BC%91%EF%BC%92%EF%BC%93',
    '%F0%9F%92%A9',
    '%C3%BC',
    '%00',
    '%ZZ',
    '%E0%A4%A',
    '%C0%AF',
    '%FF%FE',
    '..',
    '%2e%2e',
    'a%2Fb',
    '%20',
    'x'.repeat(300),
    '9'.repeat(250),
  ),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map(String),
  fc.bigInt({ min: 0n, max: 1n << 70n }).map(String),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(enc),
);

/** A query string that is odd on its own: repeated, malformed, prototype-poisoning, huge. */
export const nastyQuery = fc.oneof(
  fc.constantFrom(
    '',
    '?',
    '?&&&',
    '?=',
    '?a',
    '?limit=1&limit=2',
    '?limit[]=1',
    '?limit[a]=1',
    '?__proto__[x]=1',
    '?constructor[prototype][x]=1',
    '?limit=%E0%A4%A',
    '?limit=%',
    '?limit=%00',
    '?cursor=%FF%FE',
    `?cursor=${'A'.repeat(5000)}`,
    `?${'a=1&'.repeat(2000)}`,
    '?limit=-1',
    '?limit=1e3',
    '?limit=99999999999999999999',
    '?limit=0x10',
    '?since=-1',
    '?fields=__proto__',
  ),
  fc
    .array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 })), { maxLength: 4 })
    .map((kv) => `?${kv.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`),
);

function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Raw bodies that are not JSON, or JSON no schema expects, or too big. `limit` is BODY_LIMIT. */
export function rawBodies(limit: number): fc.Arbitrary<string | Buffer> {
  return fc.oneof(
    fc.constantFrom<string | Buffer>(
      '',
      ' ',
      '{',
      '}',
      '{"a":1,}',
      "{'a':1}",
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a":1 /* c */}',
      '{"a":01}',
      '{"a":"\\x41"}',
      '{"a":"\\ud800"}',
      '{"a":"\u0000"}',
      '\ufeff{}',
      'null',
      'true',
      '0',
      '-0',
      '"text"',
      '[]',
      '[{}]',
      '1e999',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"a":1}{"b":2}',
      '{"a":1}\n\n\u0000',
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
      Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
      Buffer.from('\u0000'.repeat(64)),
      `{"text":"${'x'.repeat(limit + 10)}"}`,
      `[${'1,'.repeat(Math.ceil(limit / 2))}1]`,
      deepJson(Math.floor(limit / 4), 'array'),
      deepJson(Math.floor(limit / 8), 'object'),
      `{"text":"a","metadata":{"a":${deepJson(4000, 'array')}}}`,
      `{"title":${deepJson(3000, 'object')}}`,
    ),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.json({ maxDepth: 3 }),
  );
}

/**
 * A body for a schema: valid by the schema (so it reaches the service), or mutated: a field of
 * the wrong type, a required field missing, an unknown field, a string past its maxLength, a
 * nested structure where a scalar belongs, or a hostile string in every string field.
 */
export function bodyOf(schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  const valid = schemaValue(schema, pools);
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const keys = Object.keys(props);
  const required = (schema.required ?? []) as string[];
  const asObject = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const mutations: fc.Arbitrary<unknown>[] = [
    valid,
    valid,
    fc
      .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
      .map(([v, k, x]) => ({
        ...asObject(v),
        [k]: x,
      })),
  ];
  if (keys.length > 0) {
    const key = fc.constantFrom(...keys);
    mutations.push(
      fc.tuple(valid, key).chain(([v, k]) => wrongTypeOf(props[k]!).map((x) => ({ ...asObject(v), [k]: x }))),
      fc.tuple(valid, key).map(([v, k]) => ({ ...asObject(v), [k]: { nested: [[[{ deep: [k] }]]] } })),
      fc.tuple(valid, key, nastyString).map(([v, k, x]) => ({ ...asObject(v), [k]: x })),
      fc.tuple(valid, key, fc.integer({ min: 1, max: 3 })).map(([v, k, n]) => {
        const max = props[k]!.maxLength ?? props[k]!.maxItems ?? 200;
        return {
          ...asObject(v),
          [k]: n === 1 ? 'x'.repeat(max + 1) : Array.from({ length: max + 1 }, () => '1'),
        };
      }),
    );
  }
  if (required.length > 0)
    mutations.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([v, k]) => {
        const copy = { ...asObject(v) };
        delete copy[k];
        return copy;
      }),
    );
  return fc.oneof(...mutations);
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  payload?: string | Buffer;
  /** What was done to it, for failure messages. */
  note: string;
  /** Headers made just before sending (signed JWTs are made asynchronously); '' removes one. */
  late?: () => Promise<Record<string, string>>;
}

/** Credentials for one request: headers now, or made just before sending (`late`). */
export interface AuthChoice {
  headers: Record<string, string>;
  note: string;
  late?: () => Promise<Record<string, string>>;
}

/** Content types a JSON route does not take, or takes only in odd spellings. */
export const contentTypes = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/jsonx',
  'json',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/*',
  '*/*',
  '',
  'application/vnd.api+json',
);

/** Accept headers: some exclude JSON (406), some are malformed. */
export const acceptHeaders = fc.constantFrom(
  'text/html',
  'application/xml',
  'image/png',
  'application/json;q=0',
  '*/*;q=0',
  ',,,',
  ';q=1',
  'application/json',
  '*/*',
  'text/*, application/*;q=0.1',
);

/** Headers that are odd, duplicated or oversized, on top of whatever else the request has. */
type Headers = Record<string, string | string[]>;
const ODD_HEADERS: Headers[] = [
  { 'x-pad': 'a'.repeat(12_000) },
  { 'idempotency-key': 'k'.repeat(5000) },
  { 'idempotency-key': ['a', 'b'] },
  { 'idempotency-key': ' ' },
  { 'idempotency-key': 'ключ' },
  { 'content-type': ['application/json', 'text/plain'] },
  { accept: ['application/json', 'text/html'] },
  { 'x-request-id': 'r'.repeat(3000) },
  { 'x-forwarded-for': '1.1.1.1, ::ffff:not-an-ip, 999.999.999.999' },
  { 'transfer-encoding': 'gzip' },
  { 'content-encoding': 'gzip' },
  { 'content-encoding': 'br, deflate, identity' },
  { 'x-siq-channel': 'nowhere' },
  { 'x-http-method-override': 'DELETE' },
];

/** Headers that are odd, duplicated or oversized, on top of whatever else the request has. */
export const oddHeaders: fc.Arbitrary<Headers> = fc.oneof(
  fc.constantFrom(...ODD_HEADERS),
  fc.dictionary(
    fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    { maxKeys: 3 },
  ),
);

/**
 * Requests for one operation: path parameters real (from `pools`) or hostile, query parameters
 * valid, wrong or malformed, a body from its schema or mutated or raw, odd headers, and the
 * credentials `auth` chooses (real ones for part of the runs).
 */
export function requestsFor(
  op: Operation,
  pools: Pools,
  auth: fc.Arbitrary<AuthChoice>,
  opts: { prefix?: string; bodyLimit: number },
): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const segment = (p: Param) => {
    const real = pools.params[p.name] ?? [];
    const valid = schemaValue(p.schema, pools).map((v) => enc(String(v)));
    return real.length > 0
      ? fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(...real).map(enc) },
          { weight: 1, arbitrary: valid },
          { weight: 3, arbitrary: nastySegment },
        )
      : fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: nastySegment });
  };
  const path = fc
    .record(Object.fromEntries(pathParams.map((p) => [p.name, segment(p)])))
    .map((vals) =>
      op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => (vals as Record<string, string>)[name] ?? 'x'),
    );
  const queryValue = (p: Param) =>
    fc.oneof(
      { weight: 3, arbitrary: schemaValue(p.schema, pools).map((v) => String(v)) },
      ...(pools.fields?.[p.name]?.length
        ? [{ weight: 2, arbitrary: fc.constantFrom(...pools.fields[p.name]!).map((v) => String(v)) }]
        : []),
      { weight: 1, arbitrary: wrongTypeOf(p.schema).map((v) => JSON.stringify(v) ?? '') },
      { weight: 1, arbitrary: nastyString },
    );
  const query = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record(Object.fromEntries(queryParams.map((p) => [p.name, queryValue(p)])), { requiredKeys: [] })
        .map((q) => {
          const entries = Object.entries(q as Record<string, string>);
          return entries.length === 0 ? '' : `?${entries.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
        }),
    },
    { weight: 1, arbitrary: nastyQuery },
  );
  const headerValues = fc.record(
    Object.fromEntries(
      headerParams.map((p) => [
        p.name,
        fc.oneof(
          schemaValue(p.schema, pools).map((v) => String(v)),
          nastyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        ),
      ]),
    ),
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>;
  type Body = { payload?: string | Buffer; contentType?: string; note: string };
  const bodies: fc.Arbitrary<Body>[] = [
    fc.constant({ note: 'no body' }),
    rawBodies(opts.bodyLimit).map((payload) => ({
      payload,
      contentType: 'application/json',
      note: 'raw body',
    })),
    fc
      .tuple(fc.json({ maxDepth: 2 }), contentTypes)
      .map(([payload, contentType]) => ({ payload, contentType, note: `content-type ${contentType}` })),
  ];
  if (op.body) {
    const schemaBody = bodyOf(op.body, pools).map(
      (b): Body => ({ payload: JSON.stringify(b), contentType: 'application/json', note: 'schema body' }),
    );
    bodies.push(schemaBody, schemaBody, schemaBody);
  }
  return fc
    .record({
      path,
      query,
      headerValues,
      body: fc.oneof(...bodies),
      auth,
      accept: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: acceptHeaders }),
      odd: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: oddHeaders }),
    })
    .map(({ path: p, query: q, headerValues: hv, body, auth: a, accept, odd }) => {
      const headers: Record<string, string | string[]> = { ...hv, ...a.headers };
      if (body.contentType !== undefined && body.contentType !== '')
        headers['content-type'] = body.contentType;
      if (accept !== null) headers.accept = accept;
      if (odd) Object.assign(headers, odd);
      const req: FuzzRequest = {
        method: op.method,
        url: `${opts.prefix ?? ''}${p}${q}`,
        headers,
        note: `${a.note}; ${body.note}${accept !== null ? `; accept ${accept}` : ''}${odd ? `; odd ${Object.keys(odd).join(',')}` : ''}`,
      };
      if (body.payload !== undefined) req.payload = body.payload;
      if (a.late) req.late = a.late;
      return req;
    })
    .filter((req) => stays(req, `/${op.path.split('/')[1]}`));
}

/**
 * Whether the path the server will see is still below `prefix`: `/v1/..` is `/` (the web
 * console, which is not the surface under test).
 */
const stays = (req: FuzzRequest, prefix: string) => normalizedPath(req.url).startsWith(prefix);

/** Requests to paths no route serves and with methods no route takes, below `prefix`. */
export function strayRequests(
  prefix: string,
  knownPaths: readonly string[],
  auth: fc.Arbitrary<AuthChoice>,
): fc.Arbitrary<FuzzRequest> {
  const concrete = knownPaths.map((p) => p.replace(/\{[^}]+\}/g, '1'));
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(...concrete),
        fc.constantFrom(...concrete).map((p) => `${p}/extra`),
        fc.array(nastySegment, { minLength: 1, maxLength: 4 }).map((s) => `${prefix}/${s.join('/')}`),
        fc.constantFrom(`${prefix}//`, `${prefix}/./x`, `${prefix}/%2e%2e/%2e%2e/etc/passwd`, `${prefix};x`),
      ),
      auth,
    })
    .map(({ method, path, auth: a }) => {
      const req: FuzzRequest = { method, url: path, headers: { ...a.headers }, note: `stray; ${a.note}` };
      if (a.late) req.late = a.late;
      return req;
    })
    .filter((req) => stays(req, prefix));
}

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  raw: string;
}

/** Sends one request through app.inject; null when the client library itself refuses to send it. */
export async function send(app: FastifyInstance, req: FuzzRequest): Promise<Answer | null> {
  const opts: InjectOptions = {
    method: req.method as InjectOptions['method'],
    url: req.url,
    headers: req.headers as InjectOptions['headers'],
  };
  if (req.payload !== undefined) opts.payload = req.payload;
  let res: Awaited<ReturnType<FastifyInstance['inject']>>;
  try {
    res = await app.inject(opts);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_INVALID_CHAR' || (err as Error).name === 'TypeError')
      return null;
    throw err;
  }
  let body: unknown;
  try {
    body = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, raw: res.body };
}

/** The path as a WHATWG URL parser (and so app.inject) resolves it. */
export function normalizedPath(url: string): string {
  try {
    const u = new URL(url, 'http://fuzz.invalid');
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

export function describeRequest(req: FuzzRequest): string {
  const payload =
    req.payload === undefined
      ? ''
      : Buffer.isBuffer(req.payload)
        ? ` <${req.payload.length} bytes ${req.payload.subarray(0, 24).toString('hex')}>`
        : ` ${JSON.stringify(req.payload.length > 160 ? `${req.payload.slice(0, 160)}… (${req.payload.length} chars)` : req.payload)}`;
  const url = req.url.length > 200 ? `${req.url.slice(0, 200)}… (${req.url.length} chars)` : req.url;
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [
      k,
      typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : v,
    ]),
  );
  return `${req.method} ${url} ${JSON.stringify(headers)}${payload} [${req.note}]`;
}

// ---------------------------------------------------------------------------------------------
// Running a fuzz and its invariants

/** Says what is wrong with a 4xx answer for its surface, or null when it is in the surface's shape. */
export type ShapeCheck = (res: Answer, req: FuzzRequest) => string | null;

export interface FuzzStats {
  requests: number;
  byStatus: Map<number, number>;
  fiveXx: number;
  refused: number;
  dbChecks: number;
  dbChanges: number;
  /** Requests the HTTP client itself would not send (invalid header bytes). */
  unsendable: number;
  violations: string[];
}

export function newStats(): FuzzStats {
  return {
    requests: 0,
    byStatus: new Map(),
    fiveXx: 0,
    refused: 0,
    dbChecks: 0,
    dbChanges: 0,
    unsendable: 0,
    violations: [],
  };
}

export interface FuzzTarget {
  app: FastifyInstance;
  db: Kysely<any>;
  shapeOf(url: string): { name: string; check: ShapeCheck };
  /**
   * Changes a refused request may make, by design (a spent zim nonce); returns the diffs that
   * remain unexplained.
   */
  explain?(diffs: TableDiff[], req: FuzzRequest, res: Answer): TableDiff[];
  /** Called after a request that succeeded, to put back state the fuzz depends on. */
  afterSuccess?(req: FuzzRequest, res: Answer): Promise<void>;
}

/**
 * Sends each request and checks: no 5xx; every 4xx in its surface's error shape; and, with a
 * snapshot of every table before and after, no change at all from a refused request. A
 * successful request moves the baseline.
 */
export class Fuzzer {
  readonly stats = newStats();
  readonly #target: FuzzTarget;
  #baseline: DbSnapshot | null = null;

  constructor(target: FuzzTarget) {
    this.#target = target;
  }

  async #snapshot(): Promise<DbSnapshot> {
    return snapshotDb(this.#target.db);
  }

  #fail(req: FuzzRequest, res: Answer, what: string): void {
    if (this.stats.violations.length < 50)
      this.stats.violations.push(
        `${what}\n    request: ${describeRequest(req)}\n    answer: ${res.status} ${res.raw.slice(0, 300)}`,
      );
  }

  async run(generated: FuzzRequest): Promise<void> {
    const s = this.stats;
    this.#baseline ??= await this.#snapshot();
    const req = { ...generated, headers: { ...generated.headers } };
    if (req.late) {
      for (const [k, v] of Object.entries(await req.late())) {
        if (v === '') delete req.headers[k];
        else req.headers[k] = v;
      }
    }
    const res = await send(this.#target.app, req);
    if (!res) {
      s.unsendable += 1;
      return;
    }
    s.requests += 1;
    s.byStatus.set(res.status, (s.byStatus.get(res.status) ?? 0) + 1);
    if (res.status >= 500) {
      s.fiveXx += 1;
      this.#fail(req, res, `${res.status} answer`);
    }
    // A HEAD answer has no body to check.
    if (res.status >= 400 && res.status < 500) {
      s.refused += 1;
      // The surface of the path the server saw: the URL parser resolves dot segments (%2e%2e).
      const surface = this.#target.shapeOf(normalizedPath(req.url));
      const problem = req.method === 'HEAD' ? null : surface.check(res, req);
      if (problem) this.#fail(req, res, `${surface.name} error shape: ${problem}`);
    }
    await this.#compare(req, res);
  }

  /** A refused request must leave every table as it was; a successful one moves the baseline. */
  async #compare(req: FuzzRequest, res: Answer): Promise<void> {
    const s = this.stats;
    if (res.status < 400) {
      if (this.#target.afterSuccess) await this.#target.afterSuccess(req, res);
      this.#baseline = await this.#snapshot();
      return;
    }
    const after = await this.#snapshot();
    s.dbChecks += 1;
    let diffs = diffSnapshots(this.#baseline!, after);
    if (diffs.length > 0 && this.#target.explain) diffs = this.#target.explain(diffs, req, res);
    if (diffs.length > 0) {
      s.dbChanges += 1;
      this.#fail(
        req,
        res,
        `refused request changed the database: ${diffs
          .map((d) => `${d.table} +${d.added.length} -${d.removed.length} ${d.added[0]?.slice(0, 200) ?? ''}`)
          .join('; ')}`,
      );
    }
    this.#baseline = after;
  }

  /** Runs `numRuns` requests of `arb` (fast-check generates them from the shared seed). */
  async runAll(arb: fc.Arbitrary<FuzzRequest>, numRuns: number, seedOffset = 0): Promise<void> {
    await fc.assert(
      fc.asyncProperty(arb, async (req) => {
        await this.run(req);
      }),
      { numRuns, seed: FUZZ_SEED + seedOffset, endOnFailure: true },
    );
  }

  /** The `# fuzz <surface>: N requests, X 5xx, D db changes` line, and the failures if any. */
  report(surface: string): void {
    const s = this.stats;
    const statuses = [...s.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    out(
      `fuzz ${surface}: ${s.requests} requests, ${s.fiveXx} 5xx, ${s.dbChanges} db changes (${s.refused} refused, ${s.dbChecks} db snapshots compared; statuses ${statuses}; seed ${FUZZ_SEED})`,
    );
  }

  assertClean(): void {
    const s = this.stats;
    assert.equal(
      s.violations.length,
      0,
      `${s.violations.length} violations (seed ${FUZZ_SEED}):\n${s.violations.slice(0, 15).join('\n')}`,
    );
    assert.equal(s.fiveXx, 0);
    assert.equal(s.dbChanges, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Error shapes

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function jsonContentType(res: Answer): string | null {
  const ct = String(res.headers['content-type'] ?? '');
  return ct.startsWith('application/json') ? null : `content-type ${ct || '(none)'}`;
}

/** Native: `{"error": {"code", "message", "details"}}`. */
export const nativeShape: ShapeCheck = (res) => {
  const ct = jsonContentType(res);
  if (ct) return ct;
  const e = isObject(res.body) ? res.body.error : undefined;
  if (!isObject(e)) return 'no error object';
  if (typeof e.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(e.code))
    return `code ${JSON.stringify(e.code)}`;
  if (typeof e.message !== 'string' || e.message === '') return 'no message';
  if (!('details' in e)) return 'no details key';
  if (Object.keys(res.body).length !== 1) return `extra keys ${Object.keys(res.body)}`;
  if (res.status === 401 && !res.headers['www-authenticate']) return '401 without WWW-Authenticate';
  if (res.status === 405 && !res.headers.allow) return '405 without Allow';
  return null;
};

const vendorJson = (res: Answer) => jsonContentType(res);

/** cliq: exactly `{"message": <the catalogue's message for the status>}`, code in a header. */
export function cliqShape(messages: Record<number, string>): ShapeCheck {
  return (res) => {
    const ct = vendorJson(res);
    if (ct) return ct;
    if (!(res.status in messages)) return `status ${res.status} is not in the vendor's catalogue`;
    if (
      !isObject(res.body) ||
      Object.keys(res.body).length !== 1 ||
      res.body.message !== messages[res.status]
    )
      return 'body is not {"message": <catalogue message>}';
    if (typeof res.headers['x-parley-error-code'] !== 'string') return 'no X-Parley-Error-Code';
    return null;
  };
}

const ZIM_STATUS_OF_CODE: Record<number, number> = {
  7: 429,
  100000004: 401,
  100000005: 401,
  100000010: 401,
  100000100: 401,
};

/** zim: `{"Code", "Message", "RequestId"}` with a non-zero Code that fits the status. */
export const zimShape: ShapeCheck = (res) => {
  const ct = vendorJson(res);
  if (ct) return ct;
  const b = res.body;
  if (!isObject(b)) return 'not an object';
  if (Object.keys(b).sort().join(',') !== 'Code,Message,RequestId') return `keys ${Object.keys(b)}`;
  if (!Number.isInteger(b.Code) || b.Code === 0) return `Code ${b.Code}`;
  if (typeof b.Message !== 'string' || b.Message === '') return 'no Message';
  if (typeof b.RequestId !== 'string' || b.RequestId === '') return 'no RequestId';
  const expected = ZIM_STATUS_OF_CODE[b.Code as number];
  if (expected !== undefined && expected !== res.status) return `Code ${b.Code} with status ${res.status}`;
  return null;
};

/** salesiq: `{"url", "object": "error", "error": {"code", "message", "reason", ...}}`. */
export const salesiqShape: ShapeCheck = (res) => {
  const ct = vendorJson(res);
  if (ct) return ct;
  const b = res.body;
  if (!isObject(b) || typeof b.url !== 'string' || !b.url.startsWith('/')) return 'no url';
  if (b.object !== 'error') return `object ${JSON.stringify(b.object)}`;
  const e = b.error;
  if (!isObject(e)) return 'no error object';
  if (!Number.isInteger(e.code) || (e.code as number) < 1000) return `code ${e.code}`;
  if (typeof e.message !== 'string' || e.message === '') return 'no message';
  if (typeof e.reason !== 'string' || !/^[a-z][a-z0-9_]*$/.test(e.reason)) return `reason ${e.reason}`;
  if (res.status === 401 && !res.headers['www-authenticate']) return '401 without WWW-Authenticate';
  return null;
};

/** kore: `{"errors": [{"msg", "code": <the status>}, ...]}`, Parley's code in a header. */
export const koreShape: ShapeCheck = (res) => {
  const ct = vendorJson(res);
  if (ct) return ct;
  const b = res.body;
  if (!isObject(b) || Object.keys(b).length !== 1 || !Array.isArray(b.errors) || b.errors.length === 0)
    return 'body is not {"errors": [...]}';
  for (const e of b.errors as unknown[]) {
    if (!isObject(e) || typeof e.msg !== 'string' || e.msg === '' || e.code !== res.status)
      return `entry ${JSON.stringify(e)}`;
  }
  if (typeof res.headers['x-parley-error-code'] !== 'string') return 'no X-Parley-Error-Code';
  return null;
};
