import type { Command } from './spec.ts';

/**
 * Every `parley` command. The bodies are imported only when the command runs, so help and
 * argument errors are instant and admin commands never load the HTTP app.
 */
const json = {
  type: 'boolean',
  help: 'print the result as JSON on stdout (nothing else goes to stdout)',
} as const;

export const COMMANDS: Command[] = [
  {
    name: 'serve',
    summary:
      'Run the HTTP server: migrates the database first, then listens on HOST:PORT until SIGINT/SIGTERM.',
    options: {
      demo: { type: 'boolean', help: 'seed the demo org (once) and print a fresh owner token' },
    },
    run: async (inv) => (await import('./serve.ts')).serve(inv),
  },
  {
    name: 'migrate',
    summary: 'Bring the database schema up to date and exit (serve also does this at start-up).',
    options: { json },
    run: async (inv) => (await import('./migrate.ts')).migrate(inv),
  },
  {
    name: 'seed demo',
    summary:
      'Create the demo org (once: owner Ada, members, a few conversations) and print a fresh full-scope token for its owner; the previous demo token is revoked.',
    options: { json },
    run: async (inv) => (await import('./admin.ts')).seedDemoCommand(inv),
  },
  {
    name: 'org create',
    summary: 'Create an org and its owner; prints a full-scope owner token.',
    options: {
      slug: { type: 'string', arg: 'SLUG', help: 'the org slug (unique)', required: true },
      name: { type: 'string', arg: 'NAME', help: 'display name (default: the slug)' },
      'owner-email': { type: 'string', arg: 'EMAIL', help: "the owner's email", required: true },
      'owner-name': { type: 'string', arg: 'NAME', help: "the owner's name (default: the email)" },
      json,
    },
    run: async (inv) => (await import('./admin.ts')).orgCreate(inv),
  },
  {
    name: 'app create',
    summary: 'Create an API app of the signed dialect (/compat/zim); prints its AppId and ServerSecret.',
    options: {
      org: { type: 'string', arg: 'SLUG', help: 'the org slug', required: true },
      name: { type: 'string', arg: 'NAME', help: "the app's name", required: true },
      json,
    },
    run: async (inv) => (await import('./admin.ts')).appCreate(inv),
  },
  {
    name: 'token create',
    summary:
      'Issue an access token for an actor; prints the token on stdout (and what it is on stderr). A token of the same name and actor is revoked.',
    options: {
      org: { type: 'string', arg: 'SLUG', help: 'the org slug', required: true },
      actor: { type: 'string', arg: 'ID|EMAIL|EXTERNAL_ID', help: 'the actor', required: true },
      scopes: { type: 'string', arg: '"a b"', help: 'space-separated scopes (default: * = all)' },
      name: { type: 'string', arg: 'NAME', help: "the token's name (default: cli)" },
      'expires-in-days': { type: 'string', arg: 'D', help: 'expire after D days (default: never)' },
      json,
    },
    run: async (inv) => (await import('./admin.ts')).tokenCreate(inv),
  },
  {
    name: 'admin token',
    summary:
      'Issue an instance-admin token (for /v1/instance: create, list, suspend and delete orgs); prints it on stdout, stored hashed. --list and --revoke manage the existing ones.',
    options: {
      name: { type: 'string', arg: 'NAME', help: "the token's name (default: admin)" },
      'expires-in-days': { type: 'string', arg: 'D', help: 'expire after D days (default: never)' },
      list: { type: 'boolean', help: 'list the instance-admin tokens instead (no secrets)' },
      revoke: { type: 'string', arg: 'ID', help: 'revoke the instance-admin token ID instead' },
      json,
    },
    notes: 'The token works only on /v1/instance routes (docs/operations.md#instance-administration).',
    run: async (inv) => (await import('./admin.ts')).adminToken(inv),
  },
  {
    name: 'backup',
    summary:
      'Copy the embedded SQLite database to <file>, consistently, while the server may be running (SQLite online backup). On PostgreSQL it prints the pg_dump command to use instead.',
    args: [
      { name: 'file', help: 'where to write the copy (must not exist, unless --force)', required: true },
    ],
    options: { force: { type: 'boolean', help: 'overwrite <file>' }, json },
    notes:
      'Restore: stop Parley, put the copy in place of SQLITE_PATH (remove its -wal and -shm files), start.',
    run: async (inv) => (await import('./backup.ts')).backup(inv),
  },
  {
    name: 'export',
    summary:
      "Write all of one org's data as JSON lines (one record per line, in dependency order), attachment files included (base64, with their SHA-256), to --out or stdout. The transient event log, idempotency keys, nonces, the mail outbox and webhook deliveries are not exported.",
    options: {
      org: { type: 'string', arg: 'SLUG|ID', help: 'the org to export', required: true },
      out: { type: 'string', arg: 'FILE', help: 'write to FILE instead of stdout' },
    },
    run: async (inv) => (await import('./export.ts')).exportCommand(inv),
  },
  {
    name: 'import',
    summary:
      'Load an export into this database as a new org, keeping its ids (refused when the slug or any id is taken), and its attachment files into this storage (STORAGE_URL), each checked against its SHA-256; all or nothing.',
    options: {
      file: { type: 'string', arg: 'FILE', help: 'the export (JSON lines)', required: true },
      'org-slug': { type: 'string', arg: 'SLUG', help: 'give the org this slug instead of the exported one' },
      json,
    },
    run: async (inv) => (await import('./export.ts')).importCommand(inv),
  },
  {
    name: 'bench',
    summary: 'Run the benchmark suite (bench/run.ts, same as npm run bench) in its own process.',
    options: {
      quick: { type: 'boolean', help: 'short steps (a smoke run, about a minute)' },
      only: { type: 'string', arg: 'send,fanout,list,memory', help: 'run some scenarios' },
      profile: { type: 'boolean', help: 'CPU-profile each server during the measured load' },
      keep: { type: 'boolean', help: 'keep the temporary directory' },
      'no-wait': { type: 'boolean', help: 'do not wait for a quiet machine' },
      pin: { type: 'boolean', help: 'servers on CPU 0, load generators on CPU 1 (taskset)' },
    },
    noConfig: true,
    run: async (inv) => (await import('./admin.ts')).bench(inv),
  },
];

export const USAGE = `usage: parley <command> [options]      (parley <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary.split(/(?<=\.)\s/)[0]}`).join('\n')}

Global options: --help (-h), --version (-v), --debug (stack traces of errors).
Configuration comes from the environment (DATABASE_URL, SQLITE_PATH, PORT, ...): see docs/operations.md.
To capture output use \`npx parley ...\` or \`node bin/parley.js ...\` (\`npm run parley\` prints npm's banner first).
`;
