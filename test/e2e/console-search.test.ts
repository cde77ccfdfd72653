/**
 * Message search in the web console, in a real browser (as test/e2e/console.test.ts): Ada
 * searches from the conversation list, the results show the hits marked, and a result opens
 * its conversation at the message (loaded though older than the newest page, scrolled to and
 * highlighted). Screenshots at 1280 and 375 px go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-web.ts';
import { ROOT, type RunningServer, seedDemo, startServer } from '../support/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

describe('message search in the web console', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let token = '';
  let target = '';

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${server!.url}/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  before(async () => {
    await buildConsole();
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'parley-console-search-'));
    const env = { ...process.env, DATABASE_URL: '', REDIS_URL: '', SQLITE_PATH: join(dir, 'parley.db') };
    token = await seedDemo(env);
    server = await startServer(env);
    const list = await api<{ items: { id: string; title: string | null }[] }>(
      'GET',
      '/conversations?limit=100',
    );
    const launch = list.items.find((c) => c.title === 'Launch plan');
    assert.ok(launch);
    const general = list.items.find((c) => c.title === 'general');
    assert.ok(general);
    // The message searched for, then 40 more: it is older than the thread's newest page (30).
    target = (
      await api<{ id: string }>('POST', `/conversations/${launch.id}/messages`, {
        text: 'The <b>launch</b> checklist: ship the release notes before the rollout, then announce it.',
      })
    ).id;
    await api('POST', `/conversations/${general.id}/messages`, { text: 'Rollout party on Friday!' });
    for (let i = 0; i < 40; i++)
      await api('POST', `/conversations/${launch.id}/messages`, { text: `status update ${i}` });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function signedIn(width: number, height: number): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height }, isMobile: width < 600 });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(server!.url);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    return page;
  }

  async function searchFor(page: Page, q: string) {
    await page.getByRole('searchbox', { name: 'Search messages' }).fill(q);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    return page.getByRole('list', { name: 'Search results' });
  }

  for (const [width, height] of [
    [1280, 800],
    [375, 740],
  ] as const) {
    test(`at ${width} px: results mark the hits; a result opens the conversation at the message`, async () => {
      const page = await signedIn(width, height);
      const results = await searchFor(page, 'rollo');
      const hits = results.getByRole('link');
      await hits.first().waitFor();
      assert.equal(await hits.count(), 2, 'the two messages with a word starting "rollo"');
      // Newest first; the snippet's markup is only <mark> (the message's own <b> is text).
      const first = hits.nth(1);
      assert.deepEqual(await first.locator('mark').allTextContents(), ['rollout']);
      assert.match((await first.textContent()) ?? '', /^Launch plan.*The <b>launch<\/b> checklist/);
      assert.equal(await first.locator('b').count(), 0);
      assert.equal(await page.getByRole('list', { name: 'Conversation list' }).isVisible(), false);
      await page.screenshot({ path: join(SHOTS, `search-results-${width}px.png`) });

      await first.click();
      const message = page.locator(`#msg-${target}`);
      await message.waitFor();
      assert.equal(await message.getAttribute('aria-current'), 'true');
      assert.match((await message.getAttribute('class')) ?? '', /highlighted/);
      // In view (the browser evaluates this text).
      await page.waitForFunction(
        `(() => { const r = document.getElementById('msg-${target}')?.getBoundingClientRect(); return !!r && r.top >= 0 && r.bottom <= innerHeight; })()`,
      );
      await page.screenshot({ path: join(SHOTS, `search-opened-${width}px.png`) });

      // A query with only syntax in it is answered with a readable error, not a crash.
      if (width === 1280) {
        await searchFor(page, '"((*))"');
        await page.getByRole('alert').filter({ hasText: 'empty_query' }).waitFor();
      }
      await page.context().close();
    });
  }
});
