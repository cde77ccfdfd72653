import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { createFakeClock, type FakeClock } from '../../src/domain/clock.ts';
import type { RouteInfo } from '../../src/http/content.ts';
import type { EventBus } from '../../src/realtime/bus.ts';
import type { Gateway, GatewayOptions } from '../../src/realtime/gateway.ts';
import { createTestStore } from './db.ts';
import { checkResponse } from './openapi-check.ts';

export interface TestApp {
  app: FastifyInstance;
  gateway: Gateway;
  routes: readonly RouteInfo[];
  ctx: AppContext;
  clock: FakeClock;
  close(): Promise<void>;
}

/** A real app on a real, freshly migrated database (see db.ts), with a fake clock. */
export async function buildTestApp(
  env: Record<string, string> = {},
  opts: {
    gateway?: Partial<GatewayOptions>;
    bus?: EventBus;
    /** Where the app's log lines go (tests that read them); no logging without it. */
    logStream?: { write(line: string): void };
  } = {},
): Promise<TestApp> {
  const { store, drop } = await createTestStore();
  const clock = createFakeClock(Date.UTC(2026, 10, 21, 9, 0, 0));
  // Webhook receivers in tests listen on 127.0.0.1 (test/security/webhook-ssrf.test.ts turns this off).
  // Attachments go to a folder of this app's own (or to env.STORAGE_URL), removed on close.
  const files = mkdtempSync(join(tmpdir(), 'parley-test-files-'));
  const config = loadConfig({
    NODE_ID: '7',
    BODY_LIMIT: '65536',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    STORAGE_URL: pathToFileURL(files).href,
    ...env,
  });
  const { app, ctx, routes, gateway } = await buildApp(config, { store, clock, ...opts });
  await app.ready();
  return {
    app,
    gateway,
    routes,
    ctx,
    clock,
    async close() {
      await app.close();
      await drop();
      rmSync(files, { recursive: true, force: true });
    },
  };
}

export interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  raw: string;
}

/** app.inject with a bearer token and a JSON body; the answer parsed when it is JSON. */
export async function call(
  app: FastifyInstance,
  token: string | null,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  remoteAddress?: string,
): Promise<Res> {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const opts: InjectOptions = { method, url, headers: h, ...(remoteAddress ? { remoteAddress } : {}) };
  if (body !== undefined) {
    if (typeof body === 'string') opts.payload = body;
    else {
      opts.payload = JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
  }
  const res = await app.inject(opts);
  let parsed: unknown;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    parsed = undefined;
  }
  const answer = { status: res.statusCode, headers: res.headers, body: parsed, raw: res.body };
  // Every native answer must be one its route declares, with the body that status declares.
  checkResponse(app, method ?? 'GET', url, answer);
  return answer;
}

let visitorAddresses = 0;
/**
 * `call` as a website visitor would make it: from a client address of its own each time, so that
 * the widget's public routes' per-address limits stay out of the way of other calls; `x-ip` in
 * `headers` picks the address instead.
 */
export function callAsVisitor(
  app: FastifyInstance,
  token: string | null,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const { 'x-ip': chosen, ...rest } = headers;
  visitorAddresses += 1;
  const address =
    chosen ??
    `10.${100 + Math.floor(visitorAddresses / 62_500)}.${Math.floor(visitorAddresses / 250) % 250}.${visitorAddresses % 250}`;
  return call(app, token, method, url, body, rest, address);
}

/** callAsVisitor bound to the app `app()` returns (read at each call: tests build it in before()). */
export const visitorCaller =
  (app: () => FastifyInstance) =>
  (
    token: string | null,
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Res> =>
    callAsVisitor(app(), token, method, url, body, headers);
