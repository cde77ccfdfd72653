import { spawnSync } from 'node:child_process';
import { parseScopeList } from '../auth/scopes.ts';
import type { Config } from '../config.ts';
import { Scope } from '../domain/scopes.ts';
import { createApp } from '../services/apps.ts';
import { seedDemo } from '../services/demo.ts';
import {
  issueInstanceToken,
  listInstanceAdminTokens,
  revokeInstanceAdminToken,
} from '../services/instance-admin.ts';
import { createOrg, getOrgBySlug } from '../services/orgs.ts';
import { issueToken } from '../services/tokens.ts';
import { findActor, findActorByEmailOrExternalId } from '../store/repos/actors.ts';
import { withContext } from './context.ts';
import { CliError, type Invocation, printJson, str } from './spec.ts';

/** The admin commands: each opens the store and the services it needs, never the HTTP app. */

export function baseUrl(config: Readonly<Config>): string {
  const host = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host;
  return `http://${host}:${config.port}`;
}

export type DemoResult = Awaited<ReturnType<typeof seedDemo>>;

export function printDemo(base: string, r: DemoResult): void {
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

export async function seedDemoCommand({ values, config }: Invocation): Promise<undefined> {
  const r = await withContext(config, (ctx) => seedDemo(ctx));
  if (values.json)
    printJson({
      created: r.created,
      org: { id: r.org.id, slug: r.org.slug },
      owner: { id: r.owner.id, name: r.owner.name, email: r.owner.email },
      token: r.token,
    });
  else printDemo(baseUrl(config), r);
  return undefined;
}

export async function orgCreate({ values, config }: Invocation): Promise<undefined> {
  const slug = str(values, 'slug')!;
  const email = str(values, 'owner-email')!;
  const r = await withContext(config, async (ctx) => {
    const { org, owner } = await createOrg(ctx, {
      slug,
      name: str(values, 'name') ?? slug,
      ownerName: str(values, 'owner-name') ?? email,
      ownerEmail: email,
    });
    const { token } = await issueToken(ctx, {
      orgId: org.id,
      actorId: owner.id,
      name: 'owner',
      scopes: [...Scope],
    });
    return { org, owner, token };
  });
  if (values.json)
    printJson({
      org: { id: r.org.id, slug: r.org.slug, name: r.org.name },
      owner: { id: r.owner.id, email: r.owner.email },
      token: r.token,
    });
  else
    process.stdout.write(
      `org ${r.org.slug} (id ${r.org.id})\nowner ${r.owner.email} (actor id ${r.owner.id})\ntoken ${r.token}\n`,
    );
  return undefined;
}

export async function appCreate({ values, config }: Invocation): Promise<undefined> {
  const slug = str(values, 'org')!;
  const app = await withContext(config, async (ctx) => {
    const org = await getOrgBySlug(ctx, slug);
    if (!org)
      throw new CliError(`no org with slug ${slug}: check the slug (or create it: parley org create)`);
    return createApp(ctx, { orgId: org.id, system: true }, str(values, 'name')!);
  });
  if (values.json) printJson({ app_id: app.appId, server_secret: app.serverSecret });
  else process.stdout.write(`AppId ${app.appId}\nServerSecret ${app.serverSecret}\n`);
  return undefined;
}

export async function tokenCreate({ values, config }: Invocation): Promise<undefined> {
  const slug = str(values, 'org')!;
  const actorRef = str(values, 'actor')!;
  const { scopes, unknown } = parseScopeList(str(values, 'scopes') ?? '*');
  if (unknown.length > 0)
    throw new CliError(`unknown scopes: ${unknown.join(', ')}: see docs/api.md for the scope names`, 2);
  const daysText = str(values, 'expires-in-days');
  const days = daysText === undefined ? undefined : Number(daysText);
  if (days !== undefined && !(days > 0)) throw new CliError('--expires-in-days must be a positive number', 2);
  const { token, record, actor } = await withContext(config, async (ctx) => {
    const org = await getOrgBySlug(ctx, slug);
    if (!org) throw new CliError(`no org with slug ${slug}: check the slug`);
    const actor = /^[0-9]{1,19}$/.test(actorRef)
      ? await findActor(ctx.db, org.id, actorRef)
      : await findActorByEmailOrExternalId(ctx.db, org.id, actorRef);
    if (!actor)
      throw new CliError(`no actor ${actorRef} in org ${org.slug}: give an actor id, email or external id`);
    const issued = await issueToken(ctx, {
      orgId: org.id,
      actorId: actor.id,
      name: str(values, 'name') ?? 'cli',
      scopes,
      expiresAt: days === undefined ? null : ctx.clock.now() + days * 86_400_000,
    });
    return { ...issued, actor };
  });
  if (values.json)
    printJson({
      token,
      id: record.id,
      actor: { id: actor.id, name: actor.name },
      scopes: record.scopes,
      expires_at: record.expiresAt ?? null,
    });
  else {
    process.stdout.write(`${token}\n`);
    process.stderr.write(`token ${record.id} for ${actor.name} with scopes: ${record.scopes.join(' ')}\n`);
  }
  return undefined;
}

/** `parley admin token`: issue (default), --list or --revoke instance-admin tokens. */
export async function adminToken({ values, config }: Invocation): Promise<undefined> {
  const revoke = str(values, 'revoke');
  const modes = [values.list === true, revoke !== undefined].filter(Boolean).length;
  if (modes > 1) throw new CliError('give --list or --revoke, not both', 2);
  if (modes === 1 && (str(values, 'name') !== undefined || str(values, 'expires-in-days') !== undefined))
    throw new CliError(
      '--name and --expires-in-days are for issuing a token, not with --list or --revoke',
      2,
    );
  if (revoke !== undefined && !/^[0-9]{1,19}$/.test(revoke))
    throw new CliError(
      `--revoke takes a token id (digits), not "${revoke}": see parley admin token --list`,
      2,
    );
  const daysText = str(values, 'expires-in-days');
  const days = daysText === undefined ? undefined : Number(daysText);
  if (days !== undefined && !(days > 0)) throw new CliError('--expires-in-days must be a positive number', 2);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  if (values.list) {
    const tokens = await withContext(config, (ctx) => listInstanceAdminTokens(ctx));
    const rows = tokens.map((t) => ({
      id: t.id,
      name: t.name,
      created_at: iso(t.createdAt),
      expires_at: iso(t.expiresAt),
      revoked_at: iso(t.revokedAt),
    }));
    if (values.json) printJson({ items: rows });
    else
      process.stdout.write(
        rows
          .map(
            (t) =>
              `${t.id}  ${t.name}  created ${t.created_at}${t.revoked_at ? `  revoked ${t.revoked_at}` : ''}${t.expires_at ? `  expires ${t.expires_at}` : ''}\n`,
          )
          .join(''),
      );
    return undefined;
  }
  if (revoke !== undefined) {
    await withContext(config, (ctx) =>
      revokeInstanceAdminToken(ctx, revoke).catch((err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === 'token_not_found')
          throw new CliError(`no live instance-admin token ${revoke}: see parley admin token --list`);
        throw err;
      }),
    );
    if (values.json) printJson({ revoked: revoke });
    else process.stderr.write(`instance-admin token ${revoke} revoked\n`);
    return undefined;
  }
  const { token, record } = await withContext(config, (ctx) =>
    issueInstanceToken(ctx, {
      name: str(values, 'name') ?? 'admin',
      expiresAt: days === undefined ? null : ctx.clock.now() + days * 86_400_000,
    }),
  );
  if (values.json) printJson({ token, id: record.id, name: record.name, expires_at: iso(record.expiresAt) });
  else {
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      `instance-admin token ${record.id} (${record.name}): use it on ${baseUrl(config)}/v1/instance\n`,
    );
  }
  return undefined;
}

/** The benchmark suite (bench/run.ts) in its own process, with the same arguments. */
export async function bench({ raw }: Invocation): Promise<number> {
  const script = new URL('../../bench/run.ts', import.meta.url).pathname;
  const result = spawnSync(process.execPath, [script, ...raw], { stdio: 'inherit' });
  return result.status ?? 1;
}
