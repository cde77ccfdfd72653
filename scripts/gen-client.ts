/**
 * Generates the typed client's inputs from the app's own OpenAPI document:
 *
 *   src/client/openapi.json   the document served at /openapi.json (2-space JSON)
 *   src/client/schema.d.ts    TypeScript types for it, made by openapi-typescript
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

const root = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = {
  json: 'src/client/openapi.json',
  types: 'src/client/schema.d.ts',
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
  return { json, types: types.endsWith('\n') ? types : `${types}\n` };
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
