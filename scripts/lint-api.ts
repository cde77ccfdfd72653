/**
 * `npm run lint:api`: lints the API descriptions the server serves with Redocly's recommended
 * rules (redocly.yaml): /openapi.json as generated from the routes, and /asyncapi.json. Both
 * are written to a temporary folder first (the generated document, not the checked-in copy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { asyncApiDocument } from '../src/realtime/asyncapi.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-lint-api-'));
try {
  const { app } = await buildApp(loadConfig({ SQLITE_PATH: ':memory:', NODE_ID: '1' }));
  await app.ready();
  const openapi = join(dir, 'openapi.json');
  const asyncapi = join(dir, 'asyncapi.json');
  writeFileSync(openapi, JSON.stringify(app.swagger(), null, 2));
  writeFileSync(asyncapi, JSON.stringify(asyncApiDocument, null, 2));
  await app.close();
  const bin = join(root, 'node_modules', '.bin', 'redocly');
  const res = spawnSync(bin, ['lint', '--config', join(root, 'redocly.yaml'), openapi, asyncapi], {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  process.exitCode = res.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
