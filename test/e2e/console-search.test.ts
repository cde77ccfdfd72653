/**
 * Message search in the web console, in a real browser (as test/e2e/console.test.ts): Ada
 * searches from the conversation list, the results show the hits marked, and a result opens
 * its conversation at the message (loaded though older than the newest page, scrolled to and
 * highlighted). Screenshots at 1280 and 375 px go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiJson,
  type ConsoleServer,
  launchChromium,
  noChromium,
  signInToConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = join(ROOT, 'test-results', 'screenshots');

describe('message search in the web console', { skip: noChromium, timeout: 90_000 }, () => {
  let served: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let token = '';
  let target = '';

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, token, method, path, body);

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    served = await startConsoleServer('console-search');
    server = served.server;
    token = served.token;
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
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  async function signedIn(width: number, height: number): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height }, isMobile: width < 600 });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await signInToConsole(page, server!.url, token);
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
