/**
 * The test command (`npm test`): unit, API (on SQLite) and e2e suites, then the API suite
 * again on PostgreSQL when TEST_DATABASE_URL is set. Prints one closing line with the totals.
 */
import { spawn } from 'node:child_process';

interface Totals {
  pass: number;
  fail: number;
  skipped: number;
}
const totals: Totals = { pass: 0, fail: 0, skipped: 0 };

function run(label: string, files: string[], env: Record<string, string>): Promise<number> {
  process.stdout.write(`\n== ${label}\n`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-concurrency=2',
        '--test-reporter=spec',
        soak ? '--test-timeout=3600000' : '--test-timeout=120000',
        ...files,
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (name: string) => Number(new RegExp(`ℹ ${name} (\\d+)`).exec(tail)?.[1] ?? 0);
      totals.pass += count('pass');
      totals.fail += count('fail');
      totals.skipped += count('skipped');
      resolve(code ?? 1);
    });
  });
}

// `npm run test:soak` (--soak): the same suites with PARLEY_SOAK=1, which the security suites
// read to run longer (more fuzz runs, more crash cycles, more load); see docs/security.md.
const soak = process.argv.includes('--soak');
if (soak) process.env.PARLEY_SOAK = '1';
const filter = process.argv.slice(2).filter((a) => a !== '--soak');
const pick = (globs: string[]) => (filter.length > 0 ? filter : globs);

let failed = 0;
failed += await run(
  'unit, API and e2e suites on SQLite',
  pick(
    soak
      ? ['test/security/**/*.test.ts']
      : [
          'test/unit/**/*.test.ts',
          'test/api/**/*.test.ts',
          'test/e2e/**/*.test.ts',
          'test/security/**/*.test.ts',
        ],
  ),
  {
    TEST_DB: 'sqlite',
  },
);
if (process.env.TEST_DATABASE_URL && !soak) {
  failed += await run('API suite on PostgreSQL', pick(['test/api/**/*.test.ts']), { TEST_DB: 'postgres' });
} else {
  process.stdout.write('\n== PostgreSQL suite skipped: TEST_DATABASE_URL is not set\n');
}
process.stdout.write(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`);
process.exit(failed === 0 && totals.fail === 0 ? 0 : 1);
