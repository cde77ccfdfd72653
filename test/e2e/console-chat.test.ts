/**
 * The console as a chat product, in a real browser (as test/e2e/console.test.ts): URL routes
 * (deep links, reload, back), signing out on a revoked token, the demo token kept across a
 * second `seed demo`, message grouping, day separators and relative times, markdown rendered
 * and raw HTML inert, the typing indicator cleared by the message, the people picker (users
 * only), the admin views (people, departments, org settings, audit log) and the phone layout.
 * Screenshots at 1280 and 375 px go to $CONSOLE_SHOTS (default test-results/).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-web.ts';
import { PRINCIPAL_CACHE_MS } from '../../src/services/tokens.ts';
import {
  apiCall,
  apiJson,
  type ConsoleServer,
  launchChromium,
  MEMBER_SCOPES as MEMBER,
  noChromium,
  openConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer, seedDemo } from '../support/server.ts';

const SHOTS = process.env.CONSOLE_SHOTS ?? join(ROOT, 'test-results');

describe('the console as a chat product', { skip: noChromium, timeout: 300_000 }, () => {
  let parley: ConsoleServer | undefined;
  let env: NodeJS.ProcessEnv;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let ada = '';
  const ids: Record<string, string> = {};

  const call = (token: string, method: string, path: string, body?: unknown) =>
    apiCall(server!, token, method, path, body);
  const api = <T>(token: string, method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, token, method, path, body);
  async function tokenFor(actorId: string, name: string): Promise<string> {
    return (await api<{ token: string }>(ada, 'POST', '/tokens', { name, scopes: MEMBER, actor_id: actorId }))
      .token;
  }

  const open = (width: number, height: number, token: string, path = '/') =>
    openConsole(browser!, server!.url, token, { width, height, path });
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
  const messages = (page: Page) => page.getByRole('list', { name: 'Messages' });

  before(async () => {
    await buildConsole();
    await mkdir(SHOTS, { recursive: true });
    parley = await startConsoleServer('console-chat');
    server = parley.server;
    ada = parley.token;
    env = parley.env;
    const people = await api<{ items: { id: string; email: string | null; name: string }[] }>(
      ada,
      'GET',
      '/actors?limit=100',
    );
    for (const p of people.items) ids[p.name] = p.id;
    const room = await api<{ id: string }>(ada, 'POST', '/conversations', {
      kind: 'group',
      title: 'Design review',
      member_ids: [ids['Bob Member'], ids['Chen Operator']],
    });
    ids.room = room.id;
    const bob = await tokenFor(ids['Bob Member']!, 'chat-bob-seed');
    // Two days ago: two messages of Bob's; they get a day separator of their own.
    const old1 = await api<{ id: string }>(bob, 'POST', `/conversations/${room.id}/messages`, {
      text: 'Old news one',
    });
    const old2 = await api<{ id: string }>(bob, 'POST', `/conversations/${room.id}/messages`, {
      text: 'Old news two',
    });
    const db = new DatabaseSync(env.SQLITE_PATH!);
    db.exec('PRAGMA busy_timeout = 5000');
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    const set = db.prepare('UPDATE message SET created_at = ? WHERE id = ?');
    set.run(twoDaysAgo, old1.id);
    set.run(twoDaysAgo + 60_000, old2.id);
    db.close();
    // Today: Ada twice in a row (one group), then Bob.
    for (const text of ['First of mine', 'Second of mine'])
      await api(ada, 'POST', `/conversations/${room.id}/messages`, { text });
    await api(bob, 'POST', `/conversations/${room.id}/messages`, { text: 'Bob answers' });
    await api(ada, 'POST', `/conversations/${room.id}/messages`, {
      text: [
        '**bold words** and _leaning words_ and `inline code`',
        '',
        '```',
        'const answer = 42;',
        '```',
        '',
        '- first item',
        '- second item',
        '',
        '> a quoted line',
        '',
        'see [the docs](https://example.com/docs)',
      ].join('\n'),
    });
    ids.xss = (
      await api<{ id: string }>(ada, 'POST', `/conversations/${room.id}/messages`, {
        text: '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [click me](javascript:window.__xss=3)',
      })
    ).id;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await parley?.close();
  });

  test('URL routes: a deep link opens the conversation, reload keeps it, search and admin have URLs', async () => {
    // Signed out, a deep link shows sign-in, then the conversation it names.
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    await page.getByRole('heading', { name: 'Design review' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/conversations/${ids.room}`);
    await page.reload();
    await page.getByRole('heading', { name: 'Design review' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/conversations/${ids.room}`);
    // A message link (a search result) opens the thread at the message.
    await page.goto(`${server!.url}/conversations/${ids.room}/messages/${ids.xss}`);
    await page.locator(`#msg-${ids.xss}.highlighted`).waitFor();
    // Search has its own URL.
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('mine');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/\/search\?q=mine$/);
    await page.getByRole('list', { name: 'Search results' }).getByRole('link').first().waitFor();
    await page.reload();
    const hits = page.getByRole('list', { name: 'Search results' }).getByRole('link');
    await hits.nth(1).waitFor();
    assert.equal(await hits.count(), 2);
    await shot(page, 'search');
    // Admin views, each at its own URL; back goes back.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'People' }).click();
    await page.waitForURL(/\/admin\/people$/);
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Recycle bin' }).waitFor();
    await page.goto(`${server!.url}/admin/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.goto(`${server!.url}/nowhere`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.context().close();
  });

  test('messages: avatars, groups, day separators, relative times; markdown rendered, HTML inert', async () => {
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    const list = messages(page);
    await list.getByText('Bob answers').waitFor();
    await list.getByRole('heading', { name: 'Today', level: 3 }).waitFor();
    assert.equal(await list.getByRole('heading', { level: 3 }).count(), 2, 'two days: two day separators');
    // Ada's two messages in a row are one group: one avatar and name, then the text alone.
    const second = list.getByRole('listitem', { name: 'Ada Owner: Second of mine' });
    assert.match((await second.getAttribute('class')) ?? '', /\bcont\b/);
    assert.equal(await second.locator('.avatar').count(), 0);
    const first = list.getByRole('listitem', { name: 'Ada Owner: First of mine' });
    assert.match((await first.getAttribute('class')) ?? '', /\bfirst\b/);
    assert.equal(await first.locator('.avatar').textContent(), 'AO');
    // Relative time, the absolute one on hover.
    const when = first.locator('.message-head time');
    assert.match((await when.textContent()) ?? '', /just now|min ago/);
    assert.ok(((await when.getAttribute('title')) ?? '').length > 10);
    // Actions appear on hover.
    const actionsOpacity = `getComputedStyle(document.querySelector('[aria-label="Reply to Bob Member: Bob answers"]').parentElement).opacity`;
    assert.equal(await page.evaluate(actionsOpacity), '0');
    await list.getByRole('listitem', { name: 'Bob Member: Bob answers' }).hover();
    await page.waitForFunction(`${actionsOpacity} === '1'`);

    // Markdown.
    assert.equal(await list.locator('strong', { hasText: 'bold words' }).count(), 1);
    assert.equal(await list.locator('em', { hasText: 'leaning words' }).count(), 1);
    assert.equal(await list.locator('p code', { hasText: 'inline code' }).count(), 1);
    assert.equal(await list.locator('pre code', { hasText: 'const answer = 42;' }).count(), 1);
    assert.equal(await list.locator('ul li').count(), 2);
    assert.equal(await list.locator('.message-text blockquote', { hasText: 'a quoted line' }).count(), 1);
    const link = list.getByRole('link', { name: 'the docs' });
    assert.equal(await link.getAttribute('href'), 'https://example.com/docs');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    // Typed HTML is text; a javascript: link has no href; nothing ran.
    const xss = page.locator(`#msg-${ids.xss}`);
    await xss.getByText('<img src=x onerror="window.__xss=1">').waitFor();
    await xss.getByText('<script>window.__xss=2</script>', { exact: false }).waitFor();
    assert.equal(await xss.locator('img, script').count(), 0);
    assert.equal(await xss.locator('a[href]').count(), 0);
    await xss.getByText('click me', { exact: false }).click();
    assert.equal(await page.evaluate('window.__xss'), undefined);
    // The stored text is what was typed.
    const stored = await api<{ text: string }>(ada, 'GET', `/conversations/${ids.room}/messages/${ids.xss}`);
    assert.match(stored.text, /^<img src=x onerror=/);
    await shot(page, 'messages');
    await page.context().close();
  });

  test('the typing indicator clears when that person’s message arrives', async () => {
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    const bob = await open(
      1280,
      800,
      await tokenFor(ids['Bob Member']!, 'chat-bob-typing'),
      `/conversations/${ids.room}`,
    );
    await bob.getByRole('heading', { name: 'Design review' }).waitFor();
    await bob.getByLabel('Message', { exact: true }).fill('Typing away');
    await page.getByText('Bob Member is typing…').waitFor({ timeout: 5000 });
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await messages(page).getByText('Typing away').waitFor({ timeout: 5000 });
    // At once, not after the indicator's own 4 s expiry.
    await page.getByText('Bob Member is typing…').waitFor({ state: 'detached', timeout: 1000 });
    await bob.context().close();
    await page.context().close();
  });

  test('new conversation: the people picker searches users only', async () => {
    for (const [width, height] of [
      [1280, 800],
      [375, 740],
    ] as const) {
      const page = await open(width, height, ada, '/conversations');
      await page.getByRole('button', { name: 'New conversation' }).click();
      const people = page.getByRole('list', { name: 'People' });
      await people.getByText('Bob Member').waitFor();
      const names = await people.locator('label.person > span').allTextContents();
      assert.ok(names.some((n) => n.startsWith('Chen Operator')));
      assert.ok(!names.some((n) => /Helper Bot|Vera Visitor|Ada Owner/.test(n)), names.join(', '));
      await page.getByLabel('Find people').fill('che');
      await people.getByText('Bob Member').waitFor({ state: 'detached' });
      await shot(page, `new-conversation-${width}px`);
      if (width === 1280) {
        await page.getByLabel('Type').selectOption('direct');
        await page.getByRole('radio', { name: /^Chen Operator/ }).check();
        await page.getByRole('button', { name: 'Create' }).click();
        await page.getByRole('heading', { name: 'Chen Operator' }).waitFor();
        assert.match(new URL(page.url()).pathname, /^\/conversations\/\d+$/);
      }
      await page.context().close();
    }
  });

  test('admin: people, departments, org settings and the audit log', async () => {
    const page = await open(1280, 800, ada, '/admin/people');
    await page.getByRole('heading', { name: 'People' }).waitFor();
    const table = page.getByRole('table', { name: 'People' });
    await table.getByText('Chen Operator').waitFor();
    assert.equal(await table.getByText('Helper Bot').count(), 0, 'users only by default');
    const add = page.getByRole('form', { name: 'Add a user' });
    await add.getByLabel('Name').fill('Dana Dev');
    await add.getByLabel('Email').fill('dana@demo.parley.local');
    await add.getByLabel('Role').selectOption('operator');
    await add.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Added Dana Dev (operator).').waitFor();
    await page.getByLabel('Role of Dana Dev').selectOption('admin');
    await page.waitForFunction(
      `document.querySelector('[aria-label="Role of Dana Dev"]')?.value === 'admin' && !document.querySelector('[aria-label="Role of Dana Dev"]').disabled`,
    );
    const dana = (
      await api<{ items: { id: string; name: string; role: string }[] }>(
        ada,
        'GET',
        '/actors?kind=user&limit=100',
      )
    ).items.find((p) => p.name === 'Dana Dev');
    assert.equal(dana?.role, 'admin');
    await shot(page, 'admin-people');
    await page.getByRole('button', { name: 'Deactivate Dana Dev' }).click();
    await table
      .getByRole('row', { name: /Dana Dev/ })
      .getByText('deactivated')
      .waitFor();

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Departments' }).click();
    await page.getByLabel('Department name').fill('Sales');
    await page.getByRole('button', { name: 'Create department' }).click();
    const sales = page.getByRole('listitem', { name: 'Department Sales' });
    await sales.getByRole('button', { name: 'Choose operators of Sales' }).click();
    await sales.getByRole('checkbox', { name: /Chen Operator/ }).check();
    await sales.getByRole('button', { name: 'Save operators' }).click();
    await sales.getByText('Operators: Chen Operator').waitFor();
    await shot(page, 'admin-departments');

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Org settings' }).click();
    await page.getByLabel('Days a deleted chat stays in the recycle bin').fill('30');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await page.getByText('Retention and support settings saved.').waitFor();
    assert.equal(
      (await api<{ recycle_bin_days: number }>(ada, 'GET', '/support/settings')).recycle_bin_days,
      30,
    );
    await page.getByLabel('Opens at').fill('01:00');
    await page.getByLabel('Closes at').fill('05:00');
    await page.getByLabel('Time zone').fill('Europe/Amsterdam');
    await page.getByRole('button', { name: 'Save window' }).click();
    await page.getByText(/Jobs run from 01:00 to 05:00 \(Europe\/Amsterdam\)/).waitFor();
    await shot(page, 'admin-settings');

    // Something to audit: a dry-run deletion job.
    await api(ada, 'POST', '/deletion-jobs', { conversation_ids: [ids.room], dry_run: true });
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click();
    const audit = page.getByRole('table', { name: 'Audit events, newest first' });
    await audit.getByText('deletion_job.created').waitFor();
    await page.getByLabel('Action').selectOption('conversation.purged');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No audit events match.').waitFor();
    await page.getByLabel('Action').selectOption('deletion_job.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await audit.getByText('deletion_job.created').waitFor();
    await shot(page, 'admin-audit');
    await page.context().close();
  });

  test('phone (375 px): one-row top bar with a menu, compact header, five messages with a pin, tokens fit', async () => {
    const seen = await api<{ items: { id: string }[] }>(
      ada,
      'GET',
      `/conversations/${ids.room}/messages?limit=1`,
    );
    await api(ada, 'PUT', `/conversations/${ids.room}/pin`, {
      message_id: seen.items[0]!.id,
      expiry_time: -1,
    });
    for (let i = 1; i <= 6; i++)
      await api(ada, 'POST', `/conversations/${ids.room}/messages`, { text: `Short note ${i}` });
    const page = await open(375, 667, ada, `/conversations/${ids.room}`);
    await page.getByRole('region', { name: 'Pinned message' }).waitFor();
    await messages(page).getByText('Short note 6').waitFor();
    const bar = await page.locator('.topbar').boundingBox();
    assert.ok(bar && bar.height < 60, `the top bar is one row (${bar?.height} px)`);
    // Fully visible messages in the list's box.
    await page.waitForTimeout(300);
    const visible = await page.evaluate(`(() => {
      const box = document.querySelector('.messages').getBoundingClientRect();
      return [...document.querySelectorAll('.messages .message')].filter((m) => {
        const r = m.getBoundingClientRect();
        return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      }).length;
    })()`);
    assert.ok((visible as number) >= 5, `${visible} messages visible`);
    await shot(page, 'conversation-375px');
    // The thread's actions fold into ⋯; a message's into its own menu.
    assert.equal(await page.getByRole('button', { name: 'Pin to list' }).isVisible(), false);
    await page.getByRole('button', { name: 'Conversation actions' }).click();
    await page.getByRole('button', { name: 'Pin to list' }).waitFor();
    await shot(page, 'thread-menu-375px');
    await page.getByRole('button', { name: 'Conversation actions' }).click();
    await page.getByRole('button', { name: 'Actions for Ada Owner: Short note 6' }).click();
    await page.getByRole('button', { name: 'Reply to Ada Owner: Short note 6' }).waitFor();
    await shot(page, 'message-menu-375px');
    await page.keyboard.press('Escape');
    // The top bar's menu.
    assert.equal(await page.getByRole('link', { name: 'Admin' }).isVisible(), false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await shot(page, 'menu-375px');
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Recycle bin' }).waitFor();
    await page.goto(`${server!.url}/admin/tokens`);
    const tokens = page.getByRole('table');
    await tokens.waitFor();
    const box = await tokens.boundingBox();
    assert.ok(
      box && box.x >= 0 && box.x + box.width <= 376,
      `the table stays in the screen (${JSON.stringify(box)})`,
    );
    const scrolls = await tokens.evaluate((el) => el.scrollWidth > el.clientWidth);
    await shot(page, 'tokens-375px');
    if (scrolls) await tokens.evaluate((el) => el.scrollBy(400, 0));
    for (const path of ['/admin/people', '/admin/departments', '/admin/settings', '/admin/audit']) {
      await page.goto(`${server!.url}${path}`);
      await page.getByRole('navigation', { name: 'Admin' }).waitFor();
      await page.waitForTimeout(300);
      await shot(page, `${path.slice(1).replace('/', '-')}-375px`);
    }
    await page.context().close();
  });

  test('a revoked token returns to sign-in with a plain message (live socket, and a refused reconnect)', async () => {
    for (const how of ['live', 'reconnect'] as const) {
      const token = await tokenFor(ids['Bob Member']!, `chat-bob-revoked-${how}`);
      const page = await open(1280, 800, token, `/conversations/${ids.room}`);
      await page.getByRole('heading', { name: 'Design review' }).waitFor();
      const list = await api<{ items: { id: string; name: string }[] }>(ada, 'GET', '/tokens');
      const record = list.items.find((t) => t.name === `chat-bob-revoked-${how}`);
      assert.ok(record);
      if (how === 'reconnect') {
        await page.evaluate(() => {
          (globalThis as unknown as { __parleyStream?: { drop(ms: number): void } }).__parleyStream?.drop(
            1000,
          );
        });
        await page.getByRole('status', { name: 'Realtime: Reconnecting…' }).waitFor();
      }
      await api(ada, 'DELETE', `/tokens/${record.id}`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
      await page.getByRole('alert').filter({ hasText: 'You were signed out' }).waitFor();
      assert.equal(await page.getByText('Reconnecting…').count(), 0);
      if (how === 'live') await shot(page, 'signed-out');
      await page.context().close();
    }
  });

  test('seeding the demo again keeps the open console signed in (earlier demo tokens stay valid)', async () => {
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    await page.getByRole('heading', { name: 'Design review' }).waitFor();
    const next = await seedDemo(env);
    assert.notEqual(next, ada);
    assert.equal((await call(ada, 'GET', '/me')).status, 200, 'the earlier demo token still works');
    assert.equal((await call(next, 'GET', '/me')).status, 200);
    await page.getByLabel('Message', { exact: true }).fill('Still here after a restart');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await messages(page).getByText('Still here after a restart').waitFor();
    await page.getByRole('status', { name: 'Realtime: Live' }).waitFor();
    // Only the newest five demo tokens stay: four more seeds retire the first one.
    for (let i = 0; i < 4; i++) await seedDemo(env);
    // The seed revokes it in another process: the server notices within its principal cache's
    // time (PRINCIPAL_CACHE_MS, 5 s), as any node does for a token revoked elsewhere.
    let status = 0;
    for (const until = Date.now() + PRINCIPAL_CACHE_MS + 5_000; Date.now() < until; ) {
      status = (await call(ada, 'GET', '/me')).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 401, 'the sixth-newest demo token is revoked');
    assert.equal((await call(next, 'GET', '/me')).status, 200);
    await page.context().close();
  });
});
