import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';

/**
 * The import rules of .dependency-cruiser.cjs (docs/architecture.md), as `npm run check:imports`
 * checks them, plus what the command cannot say: that each rule does fire, and that every entry of
 * the known-violations allowlist still occurs (so the list shrinks as they are fixed).
 */
const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '../..');
const config = require(join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: NonNullable<ICruiseOptions['ruleSet']>['forbidden'];
  options: ICruiseOptions & { knownViolations: IViolation[] };
};

/** Every violation in `baseDir`'s src/, the allowlist left out. */
async function violations(baseDir: string): Promise<IViolation[]> {
  const result = await cruise(['src'], {
    ...config.options,
    knownViolations: [],
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  });
  if (typeof result.output === 'string') throw new Error('dependency-cruiser gave no result object');
  return result.output.summary.violations;
}

/** One line per violation; a cycle is named by its modules in order, whichever one it starts at. */
function describe(v: IViolation): string {
  if (v.cycle) return `${v.rule.name}: ${[...v.cycle.map((m) => m.name)].sort().join(' <-> ')}`;
  return `${v.rule.name}: ${v.from} -> ${v.to}`;
}

test('src/ keeps the import rules, but for the named known violations, each of which still occurs', async () => {
  const found = new Set((await violations(ROOT)).map(describe));
  const known = new Set(config.options.knownViolations.map(describe));
  assert.deepEqual(
    [...found].filter((v) => !known.has(v)),
    [],
    'new import-rule violations (docs/architecture.md, "Import rules")',
  );
  assert.deepEqual(
    [...known].filter((v) => !found.has(v)),
    [],
    'known violations that no longer occur: take them out of .dependency-cruiser.cjs',
  );
});

test('each rule fires on a tree that breaks it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-imports-'));
  try {
    const files: Record<string, string> = {
      'src/compat/dialect.ts': "import { row } from '../store/repo.ts';\nexport const x = row;\n",
      'src/store/repo.ts': "import { service } from '../services/service.ts';\nexport const row = service;\n",
      'src/services/service.ts': "import { route } from '../http/route.ts';\nexport const service = route;\n",
      'src/http/route.ts': 'export const route = 1;\n',
      'src/domain/model.ts': "import type { Bus } from '../realtime/bus.ts';\nexport type Model = Bus;\n",
      'src/realtime/bus.ts': 'export type Bus = number;\n',
      'src/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const fired = new Set((await violations(dir)).map((v) => v.rule.name));
    assert.deepEqual(
      [...fired].sort(),
      config.forbidden!.map((r) => r.name).sort(),
      'every rule of .dependency-cruiser.cjs fired',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
