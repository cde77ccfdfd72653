import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

interface Operation {
  method: string;
  pattern: RegExp;
  path: string;
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Checker {
  operations: Operation[];
  ajv: Ajv;
  validators: Map<string, ValidateFunction>;
}

const checkers = new WeakMap<FastifyInstance, Checker>();

function checkerOf(app: FastifyInstance): Checker {
  let c = checkers.get(app);
  if (c) return c;
  const doc = structuredClone(app.swagger()) as unknown as {
    paths: Record<string, Record<string, Operation['responses'] extends infer R ? { responses: R } : never>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('parley-id', /^[0-9]{1,19}$/);
  ajv.addSchema(doc as object, 'openapi');
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
    for (const [method, op] of Object.entries(item))
      operations.push({ method: method.toUpperCase(), pattern, path, responses: op.responses });
  }
  c = { operations, ajv, validators: new Map() };
  checkers.set(app, c);
  return c;
}

const pointer = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));

/**
 * Checks an answer of the native API against /openapi.json: its status must be declared for
 * the operation (an exact status or its `4XX`/`5XX` range), and a JSON body must match the
 * schema declared for that status. Paths the document does not describe (unknown routes, other
 * methods, hidden routes) are not checked. Throws, so the test that made the call fails.
 */
export function checkResponse(
  app: FastifyInstance,
  method: string,
  url: string,
  res: { status: number; headers: Record<string, unknown>; body: unknown; raw: string },
): void {
  const path = url.split('?')[0]!;
  if (!path.startsWith('/v1/')) return;
  const c = checkerOf(app);
  const op = c.operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(path));
  if (!op) return;
  const status = String(res.status);
  const declared = op.responses[status] ? status : op.responses[`${status[0]}XX`] ? `${status[0]}XX` : null;
  if (!declared)
    throw new Error(
      `${method} ${url} answered ${status}, which ${op.method} ${op.path} does not declare (${Object.keys(op.responses).join(', ')}): ${res.raw.slice(0, 300)}`,
    );
  const content = op.responses[declared]!.content;
  const type = String(res.headers['content-type'] ?? '').split(';')[0]!;
  if (!content) {
    if (res.raw !== '')
      throw new Error(`${method} ${url} ${status} declares no body but sent ${res.raw.slice(0, 200)}`);
    return;
  }
  if (!(type in content))
    throw new Error(`${method} ${url} ${status} sent ${type}, declared ${Object.keys(content).join(', ')}`);
  if (type !== 'application/json') return;
  const ref = `openapi#/paths/${pointer(op.path)}/${op.method.toLowerCase()}/responses/${declared}/content/${pointer(type)}/schema`;
  let validate = c.validators.get(ref);
  if (!validate) {
    validate = c.ajv.compile({ $ref: ref });
    c.validators.set(ref, validate);
  }
  if (!validate(res.body))
    throw new Error(
      `${method} ${url} ${status}: the body does not match the declared schema: ${c.ajv.errorsText(validate.errors)}: ${res.raw.slice(0, 300)}`,
    );
}
