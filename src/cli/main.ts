import { parseArgs } from 'node:util';
import { buildApp } from '../app.ts';
import { parseScopeList } from '../auth/scopes.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { AppError } from '../domain/errors.ts';
import { parseScopes } from '../domain/scopes.ts';
import { createApp } from '../services/apps.ts';
import { seedDemo } from '../services/demo.ts';
import { createOrg, getOrgBySlug } from '../services/orgs.ts';
import { issueToken } from '../services/tokens.ts';
import { createStore } from '../store/db.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { findActor, findActorByEmailOrExternalId } from '../store/repos/actors.ts';

const USAGE = `parley <command>

  serve [--demo]                 run the HTTP server (migrates first; --demo seeds the demo org
                                 and prints a token)
  migrate                        bring the database schema up to date
  seed demo                      create the demo org (once) and print a fresh token
  org create --slug S --name N --owner-name N --owner-email E
                                 create an org and its owner; prints a full-scope owner token
  app create --org SLUG --name N  create an API app for the signed dialect (/compat/zim); prints
                                 its AppId and ServerSecret
  bench [--quick] [--only send,fanout,list,memory] [--pin]
                                 run the benchmark suite (same as npm run bench)
  token create --org SLUG --actor ID|EMAIL|EXTERNAL_ID [--scopes "a b"] [--name N] [--expires-in-days D]
                                 issue an access token (scopes default to all)

Configuration comes from the environment: see docs/operations.md.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function withApp<T>(
  config: Config,
  fn: (ctx: Awaited<ReturnType<typeof buildApp>>['ctx']) => Promise<T>,
): Promise<T> {
  const { app, ctx } = await buildApp(config);
  try {
    return await fn(ctx);
  } finally {
    await app.close();
  }
}

function printDemo(base: string, r: Awaited<ReturnType<typeof seedDemo>>): void {
  process.stdout.write(
    [
      '',
      `Demo org "${r.org.slug}" ${r.created ? 'created' : 'ready'}.`,
      `  owner:  ${r.owner.name} <${r.owner.email}> (actor id ${r.owner.id})`,
      `  token:  ${r.token}`,
      '',
      'Try:',
      `  curl -H "Authorization: Bearer ${r.token}" ${base}/v1/conversations`,
      `  Console:  ${base}/  (sign in with the token)`,
      `  API docs: ${base}/docs`,
      '',
    ].join('\n'),
  );
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: argv.slice(1), options: { demo: { type: 'boolean' } } });
      const { app, ctx } = await buildApp(config, { periodic: true, logger: true });
      const base = `http://${config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`;
      if (values.demo) printDemo(base, await seedDemo(ctx));
      const shutdown = async (signal: string) => {
        app.log.info({ signal }, 'shutting down: finishing in-flight requests');
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      await app.listen({ port: config.port, host: config.host });
      return;
    }
    case 'migrate': {
      const store = createStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
      const result = await migrateToLatest(store.db);
      await store.close();
      const applied = result.results?.map((r) => r.migrationName) ?? [];
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
      return;
    }
    case 'seed': {
      if (sub !== 'demo') fail('usage: parley seed demo');
      await withApp(config, async (ctx) => printDemo(`http://localhost:${config.port}`, await seedDemo(ctx)));
      return;
    }
    case 'org': {
      if (sub !== 'create') fail('usage: parley org create --slug S --name N --owner-name N --owner-email E');
      const { values } = parseArgs({
        args: rest,
        options: {
          slug: { type: 'string' },
          name: { type: 'string' },
          'owner-name': { type: 'string' },
          'owner-email': { type: 'string' },
        },
      });
      if (!values.slug || !values['owner-email']) fail('org create needs --slug and --owner-email');
      await withApp(config, async (ctx) => {
        const { org, owner } = await createOrg(ctx, {
          slug: values.slug!,
          name: values.name ?? values.slug!,
          ownerName: values['owner-name'] ?? values['owner-email']!,
          ownerEmail: values['owner-email']!,
        });
        const { token } = await issueToken(ctx, {
          orgId: org.id,
          actorId: owner.id,
          name: 'owner',
          scopes: [...parseScopes('*').scopes],
        });
        process.stdout.write(
          `org ${org.slug} (id ${org.id})\nowner ${owner.email} (actor id ${owner.id})\ntoken ${token}\n`,
        );
      });
      return;
    }
    case 'app': {
      if (sub !== 'create') fail('usage: parley app create --org SLUG --name N');
      const { values } = parseArgs({
        args: rest,
        options: { org: { type: 'string' }, name: { type: 'string' } },
      });
      if (!values.org || !values.name) fail('app create needs --org and --name');
      await withApp(config, async (ctx) => {
        const org = await getOrgBySlug(ctx, values.org!);
        if (!org) fail(`no org with slug ${values.org}`);
        const app = await createApp(ctx, { orgId: org.id, system: true }, values.name!);
        process.stdout.write(`AppId ${app.appId}\nServerSecret ${app.serverSecret}\n`);
      });
      return;
    }
    case 'token': {
      if (sub !== 'create')
        fail('usage: parley token create --org SLUG --actor ID|EMAIL|EXTERNAL_ID [--scopes "..."]');
      const { values } = parseArgs({
        args: rest,
        options: {
          org: { type: 'string' },
          actor: { type: 'string' },
          scopes: { type: 'string', default: '*' },
          name: { type: 'string', default: 'cli' },
          'expires-in-days': { type: 'string' },
        },
      });
      if (!values.org || !values.actor) fail('token create needs --org and --actor');
      const { scopes, unknown } = parseScopeList(values.scopes);
      if (unknown.length > 0) fail(`unknown scopes: ${unknown.join(', ')}`);
      const days = values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
      if (days !== undefined && !(days > 0)) fail('--expires-in-days must be a positive number');
      await withApp(config, async (ctx) => {
        const org = await getOrgBySlug(ctx, values.org!);
        if (!org) fail(`no org with slug ${values.org}`);
        const actor = /^[0-9]{1,19}$/.test(values.actor!)
          ? await findActor(ctx.db, org.id, values.actor!)
          : await findActorByEmailOrExternalId(ctx.db, org.id, values.actor!);
        if (!actor) fail(`no actor ${values.actor} in org ${org.slug}`);
        const { token, record } = await issueToken(ctx, {
          orgId: org.id,
          actorId: actor.id,
          name: values.name!,
          scopes,
          expiresAt: days === undefined ? null : ctx.clock.now() + days * 86_400_000,
        });
        process.stdout.write(`${token}\n`);
        process.stderr.write(
          `token ${record.id} for ${actor.name} with scopes: ${record.scopes.join(' ')}\n`,
        );
      });
      return;
    }
    case 'bench': {
      // The benchmark suite (bench/run.ts) in its own process, with the same arguments.
      const { spawnSync } = await import('node:child_process');
      const script = new URL('../../bench/run.ts', import.meta.url).pathname;
      const result = spawnSync(process.execPath, [script, ...argv.slice(1)], { stdio: 'inherit' });
      process.exitCode = result.status ?? 1;
      return;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command ${command}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof AppError) fail(`${err.code}: ${err.message}`);
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
