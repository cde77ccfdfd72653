import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Scope } from '../../src/domain/scopes.ts';
import { buildTestApp, call, type TestApp } from './app.ts';
import type { TestOrg } from './factories.ts';

/**
 * The fixtures the API and security test files share: the file's test app, built before its
 * tests and closed after them, and the tokens that must be refused.
 */

type BuildOptions = NonNullable<Parameters<typeof buildTestApp>[1]>;

/**
 * Registers the test file's app (buildTestApp(env, opts)): built in a `before` hook and closed
 * in an `after` hook (with opts.close, e.g. closeAfterConcurrency, when the tests leave
 * connections closing). With `listen: true` it also listens on a free port of 127.0.0.1, whose
 * URL is `t.base` (for sockets and real HTTP clients). Returns a stand-in that forwards to the
 * app once it is built, so a file writes `const t = useTestApp()` and uses `t.app`, `t.ctx`,
 * `t.clock` in its tests.
 */
export function useTestApp(
  env: Record<string, string> = {},
  opts: BuildOptions & { close?: (t: TestApp) => Promise<void>; listen?: boolean } = {},
): TestApp & { readonly base: string } {
  const { close = (app: TestApp) => app.close(), listen = false, ...build } = opts;
  let current: (TestApp & { base: string }) | undefined;
  before(async () => {
    const built = await buildTestApp(env, build);
    const base = listen ? await built.app.listen({ port: 0, host: '127.0.0.1' }) : '';
    current = Object.assign(built, { base });
  });
  after(async () => {
    if (current) await close(current);
  });
  return new Proxy({} as TestApp & { base: string }, {
    get(_, key) {
      assert.ok(current, 'the test app is built by the before hook of useTestApp');
      return Reflect.get(current, key, current);
    },
  });
}

/**
 * Two tokens of the org's owner with every scope that must be refused: one revoked, one
 * expired (the test clock moves past its expiry).
 */
export async function deadTokens(
  t: TestApp,
  o: TestOrg,
): Promise<{ revoked: { id: string; token: string }; expired: { token: string } }> {
  const revoked = await call(t.app, o.owner.token, 'POST', '/v1/tokens', { name: 'r', scopes: [...Scope] });
  await call(t.app, o.owner.token, 'DELETE', `/v1/tokens/${revoked.body.record.id}`);
  const expiring = await call(t.app, o.owner.token, 'POST', '/v1/tokens', {
    name: 'e',
    scopes: [...Scope],
    expires_at: t.clock.now() + 1,
  });
  t.clock.advance(2);
  return {
    revoked: { id: revoked.body.record.id, token: revoked.body.token },
    expired: { token: expiring.body.token },
  };
}
