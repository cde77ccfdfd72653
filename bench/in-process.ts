/**
 * What the in-process diagnostics (diag-queries, diag-cpu) share: the app built on a fresh
 * SQLite file with the server's own settings, an org with an all-scopes token, a `call`
 * through app.inject, and a timer of every SQLite statement. Not imported by the load
 * generators, which must not load the app.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StatementSync } from 'node:sqlite';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Scope } from '../src/domain/scopes.ts';
import { createOrg } from '../src/services/orgs.ts';
import { issueToken } from '../src/services/tokens.ts';

/**
 * Builds the app in process with an org `slug` and its owner's all-scopes token; rate limit
 * lifted. On a fresh SQLite file, or on the PostgreSQL database `databaseUrl` (a pool of
 * `poolSize` connections, as DATABASE_POOL_SIZE gives `parley serve`).
 */
export async function startInProcess(slug: string, pgOpts: { databaseUrl?: string; poolSize?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `parley-${slug}-`));
  const config = loadConfig({
    SQLITE_PATH: join(dir, 'parley.db'),
    DATABASE_URL: pgOpts.databaseUrl,
    DATABASE_POOL_SIZE: pgOpts.poolSize === undefined ? undefined : String(pgOpts.poolSize),
    LOG_LEVEL: 'silent',
  });
  const { app, ctx } = await buildApp(config);
  await app.ready();
  const { org, owner } = await createOrg(ctx, {
    slug,
    name: slug,
    ownerName: 'Owner',
    ownerEmail: `owner@${slug}.example`,
  });
  const { token } = await issueToken(ctx, {
    orgId: org.id,
    actorId: owner.id,
    name: slug,
    scopes: [...Scope],
  });
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  /** A request through app.inject; throws on anything but 2xx; the parsed answer. */
  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers, payload: payload as any });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.statusCode === 204 ? null : res.json();
  };
  await call('PUT', '/v1/rate-limits/native', { points: 1_000_000, duration_s: 1, block_s: 0 });
  return {
    app,
    ctx,
    call,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Times every statement node:sqlite executes while `counting` is on (BEGIN and COMMIT
 * included), by SQL text (its first `width` characters).
 */
export function timeStatements(width = 110) {
  const stats = new Map<string, { count: number; ms: number }>();
  const state = { counting: false, stats };
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const original = StatementSync.prototype[method] as (...args: unknown[]) => unknown;
    (StatementSync.prototype as any)[method] = function (this: StatementSync, ...args: unknown[]) {
      if (!state.counting) return original.apply(this, args);
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const sql = this.sourceSQL.replace(/\s+/g, ' ').slice(0, width);
        const s = stats.get(sql) ?? { count: 0, ms: 0 };
        s.count++;
        s.ms += performance.now() - t;
        stats.set(sql, s);
      }
    };
  }
  return state;
}
