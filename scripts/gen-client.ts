/**
 * Generates the typed clients' inputs (the @parley/client package, packages/client) from the
 * app's own API descriptions:
 *
 *   packages/client/openapi.json              the document served at /openapi.json (2-space JSON)
 *   packages/client/src/schema.d.ts           TypeScript types for it, made by openapi-typescript
 *   packages/client/asyncapi.json             the document served at /asyncapi.json
 *   packages/client/src/stream-schema.d.ts    TypeScript types of its frame schemas
 *
 * `node scripts/gen-client.ts` writes both files; with `--check` it writes nothing and exits 1
 * when either checked-in file differs from what would be generated (CI runs this).
 *
 * Both are generated files (Biome ignores them). The output has no timestamps: the same
 * routes always give the same bytes.
 *
 * openapi-typescript is pinned to v6: v7 loads the TypeScript 5 compiler API, which the
 * TypeScript 7 this project uses does not have.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { type OpenAPI3 } from 'openapi-typescript';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { asyncApiDocument } from '../src/realtime/asyncapi.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = {
  json: 'packages/client/openapi.json',
  types: 'packages/client/src/schema.d.ts',
  asyncJson: 'packages/client/asyncapi.json',
  streamTypes: 'packages/client/src/stream-schema.d.ts',
} as const;

async function openApiDocument(): Promise<OpenAPI3> {
  // An in-memory database: building the app migrates it, and nothing is left behind.
  const { app } = await buildApp(loadConfig({ SQLITE_PATH: ':memory:', NODE_ID: '1' }));
  try {
    await app.ready();
    // A deep copy, so nothing below can touch the app's own document.
    return structuredClone(app.swagger()) as unknown as OpenAPI3;
  } finally {
    await app.close();
  }
}

async function generate(): Promise<Record<keyof typeof OUTPUTS, string>> {
  const doc = await openApiDocument();
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  // openapi-typescript may annotate the object it is given; hand it a copy of the document.
  const types = await openapiTS(structuredClone(doc), { silent: true });
  // The frames' schemas, typed by the same generator: wrapped in an OpenAPI shell with no paths.
  const frames = await openapiTS(
    {
      openapi: '3.1.0',
      info: { title: asyncApiDocument.info.title, version: asyncApiDocument.info.version },
      paths: {},
      components: structuredClone({
        schemas: asyncApiDocument.components.schemas,
      }) as unknown as OpenAPI3['components'],
    },
    { silent: true },
  );
  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return {
    json,
    types: nl(types),
    asyncJson: `${JSON.stringify(asyncApiDocument, null, 2)}\n`,
    streamTypes: nl(frames),
  };
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const generated = await generate();
  let differing = 0;
  for (const key of Object.keys(OUTPUTS) as (keyof typeof OUTPUTS)[]) {
    const rel = OUTPUTS[key];
    const path = `${root}${rel}`;
    const current = readOrNull(path);
    if (current === generated[key]) continue;
    differing++;
    if (check) {
      process.stderr.write(`${rel} is ${current === null ? 'missing' : 'stale'}: run npm run gen:client\n`);
    } else {
      writeFileSync(path, generated[key]);
      process.stdout.write(`wrote ${rel}\n`);
    }
  }
  if (differing === 0) process.stdout.write(`${Object.values(OUTPUTS).join(' and ')} are up to date\n`);
  return check && differing > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
