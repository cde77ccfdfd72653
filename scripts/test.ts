/**
 * The test command (`npm test`): unit, API, e2e and security suites on SQLite, then the API and
 * security suites again on PostgreSQL when TEST_DATABASE_URL is set (TEST_DB=postgres: each test
 * file makes its database through test/support/db.ts). A test that runs on one database only
 * says in which pass it runs when skipped. Prints one closing line with the totals.
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
/** What a pass runs, for its heading: the files given on the command line, or its suites. */
const what = (suites: string) => (filter.length > 0 ? filter.join(' ') : suites);

let failed = 0;
failed += await run(
  `${what(soak ? 'security suites' : 'unit, API, e2e and security suites')} on SQLite`,
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
if (process.env.TEST_DATABASE_URL) {
  failed += await run(
    `${what(soak ? 'security suites' : 'API and security suites')} on PostgreSQL`,
    pick(soak ? ['test/security/**/*.test.ts'] : ['test/api/**/*.test.ts', 'test/security/**/*.test.ts']),
    { TEST_DB: 'postgres' },
  );
} else {
  process.stdout.write('\n== PostgreSQL pass skipped: TEST_DATABASE_URL is not set\n');
}
process.stdout.write(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`);
process.exit(failed === 0 && totals.fail === 0 ? 0 : 1);
