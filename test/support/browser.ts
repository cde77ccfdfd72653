import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type FrameLocator, type Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-web.ts';
import { type RunningServer, seedDemo, startServer } from './server.ts';

/**
 * The browser tests' shared parts (test/e2e/console*.test.ts, widget*.test.ts): the system
 * Chromium driven by playwright-core, a `parley serve` with the demo org and the built console,
 * the console's sign-in, JSON calls to the server's /v1 API, and a web site of another origin
 * that embeds the widget.
 */

/** The Chromium the browser tests drive (Debian's package; CHROMIUM_PATH for another). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A browser test's `skip`: false, or why it cannot run on this machine. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

/** The project's Chromium flags: headless, no sandbox (containers), nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
] as const;

/** Launches the system Chromium with the project's flags, and any more given. */
export function launchChromium(moreArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...moreArgs] });
}

/** Opens the console at `url`, signs in with the pasted `token` and waits for the conversation list. */
export async function signInToConsole(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Conversations' }).waitFor();
}

/**
 * A new browser context of `width` x `height` (a phone's touch below 600 px) on the console at
 * `path`, signed in with `token`, once its stream is live. Dialogs (confirmations) are accepted.
 */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  token: string,
  opts: { width?: number; height?: number; path?: string; timeoutMs?: number } = {},
): Promise<Page> {
  const width = opts.width ?? 1280;
  const context = await browser.newContext({
    viewport: { width, height: opts.height ?? 800 },
    isMobile: width < 600,
  });
  context.setDefaultTimeout(opts.timeoutMs ?? 10_000);
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${baseUrl}${opts.path ?? '/'}`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('status', { name: 'Realtime: Live' }).waitFor();
  return page;
}

export interface ConsoleServer {
  /** A temp folder of the test's own (the database is in it); removed by close(). */
  dir: string;
  server: RunningServer;
  /** The demo owner's token, as `parley seed demo` printed it ('' when not seeded). */
  token: string;
  /** The server's environment (for more `parley` commands on the same database). */
  env: NodeJS.ProcessEnv;
  /** Stops the server and removes the folder. */
  close(): Promise<void>;
}

/**
 * Builds the console (when it changed), seeds the demo org (unless `seed: false`) into a temp
 * SQLite file and serves it with `parley serve`: no PostgreSQL, no Redis, and `env` on top.
 */
export async function startConsoleServer(
  name: string,
  opts: { env?: Record<string, string>; timeoutMs?: number; seed?: boolean } = {},
): Promise<ConsoleServer> {
  await buildConsole();
  const dir = await mkdtemp(join(tmpdir(), `parley-${name}-`));
  const env = {
    ...process.env,
    DATABASE_URL: '',
    REDIS_URL: '',
    SQLITE_PATH: join(dir, 'parley.db'),
    ...opts.env,
  };
  const token = opts.seed === false ? '' : await seedDemo(env);
  const server = await startServer(env, opts.timeoutMs);
  return {
    dir,
    server,
    token,
    env,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the server's /v1 API with a bearer token; a failure fails the test with the answer. */
export async function apiJson<T>(
  server: RunningServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${server.url}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A call to the server's /v1 API with a bearer token: its status and parsed body, whatever they are. */
export async function apiCall(
  server: RunningServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface Site {
  url: string;
  server: Server;
}

/**
 * A plain web site on an origin of its own (`host`, e.g. `localhost` while Parley is on
 * 127.0.0.1: another site, as on the web) whose page holds `body(parleyUrl)`, e.g. the widget's
 * script tag. `style` is the page's own CSS (the widget must not be affected by it).
 */
export async function serveSite(
  host: string,
  body: (parley: string) => string,
  parley: string,
  style = 'body{font-family:Georgia,serif;margin:0;padding:32px;background:#fdf6e3}h1{color:#333}',
): Promise<Site> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/favicon')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<title>Acme shop</title><style>${style}</style></head>` +
        `<body><h1>Acme shop</h1><p>Our finest products, shipped worldwide.</p>${body(parley)}</body></html>`,
    );
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

/** The widget's one script tag for the widget with this public key. */
export const widgetSnippet = (key: string) => (parley: string) =>
  `<script src="${parley}/widget.js" data-key="${key}" async></script>`;

/** The widget's chat panel (its iframe) on a host page. */
export const widgetPanel = (page: Page): FrameLocator => page.frameLocator('iframe[title^="Chat with"]');

/** The widget's launcher button on a host page. */
export const widgetLauncher = (page: Page) =>
  page.locator('#parley-widget-host').getByRole('button', { name: /Chat with/ });

/** The demo org's people by name, and the signed-in owner's own id as `ada`. */
export async function demoPeople(server: RunningServer, token: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const people = await apiJson<{ items: { id: string; name: string }[] }>(
    server,
    token,
    'GET',
    '/actors?limit=100',
  );
  for (const p of people.items) ids[p.name] = p.id;
  ids.ada = (await apiJson<{ actor: { id: string } }>(server, token, 'GET', '/me')).actor.id;
  return ids;
}

/** A team member's token scopes (no admin): what the console tests give Bob and Chen. */
export const MEMBER_SCOPES = [
  'conversations:read',
  'conversations:write',
  'messages:read',
  'messages:write',
  'people:read',
];

/** The console's message list, and the last message in it that holds `text`. */
export const messageList = (page: Page) => page.getByRole('list', { name: 'Messages' });
export const messageItem = (page: Page, text: string) =>
  messageList(page).getByRole('listitem').filter({ hasText: text }).last();
