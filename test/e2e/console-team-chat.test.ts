/**
 * Team chat in the console, in a real browser against a real server (issue 18): the mention
 * picker and highlighted mentions, the list's mention badge and "Mentions" filter, reactions
 * (toggle, picker, live), "Seen by" (live, and nothing when the org turns receipts off),
 * presence dots (live), the thread panel with its own URL (reload, deep link, phone), and the
 * admin tables as cards at 375 px. Screenshots at 1280 and 375 px go to $TEAMCHAT_SHOTS
 * (default test-results/).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-web.ts';
import {
  apiJson,
  type ConsoleServer,
  demoPeople,
  launchChromium,
  MEMBER_SCOPES as MEMBER,
  messageItem,
  messageList,
  noChromium,
  openConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = process.env.TEAMCHAT_SHOTS ?? join(ROOT, 'test-results');

describe('team chat in the console', { skip: noChromium, timeout: 300_000 }, () => {
  let parley: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let ada = '';
  let bob = '';
  let chen = '';
  const ids = {} as Record<string, string> & { room: string; quiet: string; ada: string };

  const api = <T>(token: string, method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, token, method, path, body);
  const send = (token: string, conv: string, body: Record<string, unknown>) =>
    api<{ id: string; text: string; mentions: string[] }>(
      token,
      'POST',
      `/conversations/${conv}/messages`,
      body,
    );

  const open = (width: number, height: number, token: string, path = '/') =>
    openConsole(browser!, server!.url, token, { width, height, path });
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `teamchat-${name}.png`) });
  const messages = messageList;
  const message = messageItem;

  before(async () => {
    await buildConsole();
    await mkdir(SHOTS, { recursive: true });
    parley = await startConsoleServer('console-teamchat');
    server = parley.server;
    ada = parley.token;
    Object.assign(ids, await demoPeople(server, ada));
    bob = (
      await api<{ token: string }>(ada, 'POST', '/tokens', {
        name: 'tc-bob',
        scopes: MEMBER,
        actor_id: ids['Bob Member'],
      })
    ).token;
    chen = (
      await api<{ token: string }>(ada, 'POST', '/tokens', {
        name: 'tc-chen',
        scopes: MEMBER,
        actor_id: ids['Chen Operator'],
      })
    ).token;
    ids.room = (
      await api<{ id: string }>(ada, 'POST', '/conversations', {
        kind: 'group',
        title: 'Launch room',
        member_ids: [ids['Bob Member'], ids['Chen Operator']],
      })
    ).id;
    ids.quiet = (
      await api<{ id: string }>(ada, 'POST', '/conversations', {
        kind: 'group',
        title: 'Quiet room',
        member_ids: [ids['Bob Member']],
      })
    ).id;
    await send(chen, ids.room, { text: 'Morning all, the launch checklist is in the doc' });
    await send(ada, ids.quiet, { text: 'nothing to see here' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await parley?.close();
  });

  test('mentions: @ completion inserts <@id> shown as @Name, highlighted; badge and Mentions filter', async () => {
    const bobPage = await open(1280, 800, bob);
    const list = bobPage.getByRole('list', { name: 'Conversation list' });
    await list.getByRole('link', { name: /Launch room/ }).waitFor();
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    await message(page, 'launch checklist').waitFor();
    const box = page.getByLabel('Message', { exact: true });
    await box.click();
    await box.pressSequentially('Can you check it @bo');
    const picker = page.getByRole('listbox', { name: 'Mention someone' });
    await picker.getByRole('option', { name: '@Bob Member' }).waitFor();
    // Arrow keys move, Enter picks (and does not send).
    await box.press('Backspace');
    await box.press('Backspace');
    await picker.waitFor();
    assert.ok((await picker.getByRole('option').count()) >= 3, 'every other member and @all');
    await shot(page, 'mention-picker-1280');
    const options = await picker.getByRole('option').allTextContents();
    const bobIndex = options.findIndex((o) => o.includes('Bob Member'));
    assert.ok(bobIndex >= 0, options.join(' | '));
    for (let i = 0; i < bobIndex; i++) await box.press('ArrowDown');
    assert.equal(
      await picker.getByRole('option', { selected: true }).textContent(),
      '@Bob Member',
      'the arrow keys moved to Bob',
    );
    await box.press('Enter');
    assert.equal(await box.inputValue(), 'Can you check it @Bob Member ');
    assert.equal(await picker.count(), 0, 'the picker closed');
    await box.pressSequentially('today? @all');
    await box.press('Escape');
    assert.equal(await picker.count(), 0, 'Escape closes the picker');
    await box.press('Enter');
    const sent = message(page, 'today?');
    await sent.locator('.mention', { hasText: '@Bob Member' }).waitFor();
    // The server got the id form and resolved it.
    const hist = await api<{ items: { text: string; mentions: string[]; mentions_all: boolean }[] }>(
      ada,
      'GET',
      `/conversations/${ids.room}/messages?limit=1`,
    );
    assert.equal(hist.items[0]!.text, `Can you check it <@${ids['Bob Member']}> today? @all`);
    assert.deepEqual(hist.items[0]!.mentions, [ids['Bob Member']]);
    assert.equal(hist.items[0]!.mentions_all, true);
    // In Ada's view Bob's mention is plain highlighted, @all (her too) stronger.
    assert.equal(await sent.locator('.mention.mention-me').textContent(), '@all');

    // Bob's list: the mention badge (separate from unread), live.
    const room = list.getByRole('link', { name: /Launch room/ });
    await room.getByText('@1').waitFor();
    await shot(bobPage, 'mention-badge-1280');
    assert.match((await room.getAttribute('aria-label')) ?? '', /2 unread, 1 mention/);
    // The Mentions filter asks the server (has_mentions): only the room.
    await bobPage.getByLabel('Show').selectOption('mentions');
    await list.getByRole('link', { name: /Quiet room/ }).waitFor({ state: 'detached' });
    assert.deepEqual(
      (await list.getByRole('link').allTextContents()).map((t) => t.includes('Launch room')),
      [true],
    );
    // Opening it: Bob's own mention is the stronger one; reading clears the badge.
    await room.click();
    await message(bobPage, 'today?').locator('.mention.mention-me', { hasText: '@Bob Member' }).waitFor();
    await bobPage.waitForFunction(`!document.querySelector('.conv[aria-current="page"] .mention-badge')`);
    await bobPage.context().close();
    await page.context().close();
  });

  test('reactions: add from the picker, counts with who reacted, toggle, live for others', async () => {
    const root = await send(chen, ids.room, { text: 'Ship it on Friday?' });
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    const bobPage = await open(1280, 800, bob, `/conversations/${ids.room}`);
    const mine = message(page, 'Ship it on Friday?');
    await mine.hover();
    await mine.getByRole('button', { name: /^React to Chen Operator/ }).click();
    await page
      .getByRole('menu', { name: 'Choose a reaction' })
      .getByRole('menuitem', { name: 'React with 👍' })
      .click();
    const thumbs = mine.getByRole('button', { name: /^👍 1/ });
    await thumbs.waitFor();
    assert.equal(await thumbs.getAttribute('aria-pressed'), 'true');
    assert.match((await thumbs.getAttribute('title')) ?? '', /you reacted with 👍/);
    // Bob sees it live and adds his: Ada sees 2, named in the title.
    const theirs = message(bobPage, 'Ship it on Friday?');
    const bobThumbs = theirs.getByRole('button', { name: /^👍 1/ });
    await bobThumbs.waitFor();
    assert.equal(await bobThumbs.getAttribute('aria-pressed'), 'false');
    await bobThumbs.click();
    await mine.getByRole('button', { name: /^👍 2/ }).waitFor();
    assert.match(
      (await mine.getByRole('button', { name: /^👍 2/ }).getAttribute('title')) ?? '',
      /Bob Member/,
    );
    // Chen reacts through the API with another emoji: live in both.
    await api(
      chen,
      'PUT',
      `/conversations/${ids.room}/messages/${root.id}/reactions/${encodeURIComponent('🎉')}`,
    );
    await mine.getByRole('button', { name: /^🎉 1/ }).waitFor();
    await theirs.getByRole('button', { name: /^🎉 1/ }).waitFor();
    await shot(page, 'reactions-1280');
    // Ada toggles hers off: 1 left, not pressed; the server agrees.
    await mine.getByRole('button', { name: /^👍 2/ }).click();
    await mine.getByRole('button', { name: /^👍 1/ }).waitFor();
    assert.equal(await mine.getByRole('button', { name: /^👍 1/ }).getAttribute('aria-pressed'), 'false');
    await theirs.getByRole('button', { name: /^👍 1/ }).waitFor();
    const r = await api<{ reactions: { emoji: string; actor_ids: string[] }[] }>(
      ada,
      'GET',
      `/conversations/${ids.room}/messages/${root.id}/reactions`,
    );
    assert.deepEqual(
      r.reactions.map((x) => [x.emoji, x.actor_ids]),
      [
        ['👍', [ids['Bob Member']]],
        ['🎉', [ids['Chen Operator']]],
      ],
    );
    await bobPage.context().close();
    await page.context().close();
  });

  test('presence: dots in the member list and the DM line, live; read receipts: "Seen by", live, off by setting', async () => {
    const dm = await api<{ id: string }>(ada, 'POST', '/conversations', {
      kind: 'direct',
      member_ids: [ids['Bob Member']],
    });
    await send(ada, dm.id, { text: 'Quick one for you' });
    // Bob is online (a socket) before Ada looks.
    const bobPage = await open(1280, 800, bob, '/conversations');
    const page = await open(1280, 800, ada, `/conversations/${dm.id}`);
    const line = page.locator('.dm-presence');
    await line.getByText('Bob Member is online').waitFor();
    assert.equal(await line.locator('.presence-dot.presence-online').count(), 1);
    // He opens the DM: Ada sees "Seen" under her last message, live.
    assert.equal(await page.locator('.seen-by').count(), 0);
    await bobPage.getByRole('link', { name: /Ada Owner/ }).click();
    await message(bobPage, 'Quick one for you').waitFor();
    await page.locator('.seen-by', { hasText: 'Seen' }).waitFor();
    // He says he is away: the dot turns amber, live.
    await api(bob, 'PUT', '/presence/me', { status: 'away' });
    await line.getByText('Bob Member is away').waitFor();
    assert.equal(await line.locator('.presence-dot.presence-away').count(), 1);
    await api(bob, 'PUT', '/presence/me', { status: 'online' });
    await line.getByText('Bob Member is online').waitFor();

    // The group: the member list with dots; "Seen by" names who read the last message.
    await send(ada, ids.room, { text: 'Last call for the checklist' });
    await page.goto(`${server!.url}/conversations/${ids.room}`);
    await message(page, 'Last call').waitFor();
    await page.getByText(/3 members ·/).click();
    const members = page.getByRole('list', { name: 'Members' });
    await members.getByRole('listitem', { name: 'Bob Member, online' }).waitFor();
    await members.getByRole('listitem', { name: 'Chen Operator, offline' }).waitFor();
    await bobPage.goto(`${server!.url}/conversations/${ids.room}`);
    await message(bobPage, 'Last call').waitFor();
    await page.locator('.seen-by', { hasText: 'Seen by Bob Member' }).waitFor();
    await shot(page, 'group-1280');
    // Bob leaves (his socket closes): offline, live.
    await bobPage.context().close();
    await members.getByRole('listitem', { name: 'Bob Member, offline' }).waitFor({ timeout: 20_000 });

    // The org turns receipts off: nothing shown.
    await api(ada, 'PATCH', '/team-chat/settings', { read_receipts: false });
    await page.reload();
    await message(page, 'Last call').waitFor();
    await page.getByText(/3 members ·/).waitFor();
    assert.equal(await page.locator('.seen-by').count(), 0, 'no receipts when the org turned them off');
    await api(ada, 'PATCH', '/team-chat/settings', { read_receipts: true });
    await page.context().close();
  });

  test('threads: "N replies · last reply", a panel with its own URL (reload, deep link), replies and unread; phone full screen', async () => {
    const root = await send(ada, ids.room, { text: 'Thread: who owns the release notes?' });
    await send(bob, ids.room, { text: 'I can take them', reply_to: root.id });
    const page = await open(1280, 800, ada, `/conversations/${ids.room}`);
    const rootItem = messages(page)
      .getByRole('listitem')
      .filter({ hasText: 'who owns the release notes' })
      .first();
    const summary = rootItem.getByRole('button', { name: /1 reply · last reply/ });
    await summary.waitFor();
    // A reply arriving: the summary moves, live.
    await send(chen, ids.room, { text: 'I will review', reply_to: root.id });
    await rootItem.getByRole('button', { name: /2 replies · last reply just now/ }).click();
    await page.waitForURL(`**/conversations/${ids.room}/t/${root.id}`);
    const panel = page.getByRole('complementary', { name: 'Thread' });
    await panel.getByText('I will review').waitFor();
    await panel.getByText('I can take them').waitFor();
    await panel.getByText('2 new').waitFor();
    // Reply in the thread: it shows in the panel and, as on the server, in the main timeline.
    await panel.getByLabel('Reply in the thread').fill('Thanks both');
    await panel.getByRole('button', { name: 'Reply', exact: true }).click();
    await panel.getByText('Thanks both').waitFor();
    await message(page, 'Thanks both').waitFor();
    await rootItem.getByRole('button', { name: /3 replies/ }).waitFor();
    const thread = await api<{ items: { text: string }[]; me: { unread_count: number } }>(
      ada,
      'GET',
      `/conversations/${ids.room}/messages/${root.id}/thread`,
    );
    assert.deepEqual(
      thread.items.map((m) => m.text),
      ['I can take them', 'I will review', 'Thanks both'],
    );
    assert.equal(thread.me.unread_count, 0, 'opening the thread read it');
    await shot(page, 'thread-1280');
    // Reload keeps the panel open.
    await page.reload();
    await panel.getByText('Thanks both').waitFor();
    // A reply deleted in the panel: a tombstone there, one reply less in the summary (the server's count).
    await panel.getByText('Thanks both').waitFor();
    await send(ada, ids.room, { text: 'Oops, wrong thread', reply_to: root.id });
    const oops = panel.getByRole('listitem').filter({ hasText: 'Oops, wrong thread' });
    await oops.waitFor();
    await rootItem.getByRole('button', { name: /4 replies/ }).waitFor();
    await oops.hover();
    await oops.getByRole('button', { name: /^Delete message/ }).click();
    await panel.getByText('This message was deleted.').waitFor();
    await rootItem.getByRole('button', { name: /3 replies/ }).waitFor();
    // Bob's deep link on a phone: the thread full screen, Back returns to the conversation.
    const phone = await open(375, 740, bob, `/conversations/${ids.room}/t/${root.id}`);
    const phonePanel = phone.getByRole('complementary', { name: 'Thread' });
    await phonePanel.getByText('Thanks both').waitFor();
    // Bob read the thread up to his own reply: Chen's and Ada's are new to him.
    await phonePanel.getByText('2 new').waitFor();
    const bounds = await phonePanel.boundingBox();
    assert.ok(bounds && bounds.width >= 370, `full width on a phone (${bounds?.width})`);
    await shot(phone, 'thread-375');
    await phonePanel.getByRole('button', { name: 'Close the thread' }).click();
    await phone.waitForURL(`**/conversations/${ids.room}`);
    await phonePanel.waitFor({ state: 'detached' });
    await message(phone, 'Thanks both').waitFor();
    // An unknown message id: the panel says so.
    await phone.goto(`${server!.url}/conversations/${ids.room}/t/12345`);
    await phone.getByRole('alert').filter({ hasText: 'message_not_found' }).waitFor();
    await phone.context().close();
    await page.context().close();
  });

  test('phone (375 px): the group with reactions, mentions, receipts and presence; the mention picker', async () => {
    const page = await open(375, 740, ada, `/conversations/${ids.room}`);
    await message(page, 'Last call').waitFor();
    await page.locator('.reaction').first().waitFor();
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 375, `no sideways scroll (${width})`);
    await shot(page, 'group-375');
    const box = page.getByLabel('Message', { exact: true });
    await box.click();
    await box.pressSequentially('@c');
    await page
      .getByRole('listbox', { name: 'Mention someone' })
      .getByRole('option', { name: '@Chen Operator' })
      .waitFor();
    await shot(page, 'mention-picker-375');
    await page.context().close();
  });

  test('admin tables are stacked cards at 375 px, a table at 1280', async () => {
    const phone = await open(375, 740, ada, '/admin/people');
    const table = phone.getByRole('table', { name: 'People' });
    await table.getByText('Chen Operator').waitFor();
    const cell = table.locator('td[data-label="Email"]').first();
    assert.equal(await cell.evaluate((td) => (globalThis as any).getComputedStyle(td).display), 'grid');
    assert.equal(
      await cell.evaluate((td) => (globalThis as any).getComputedStyle(td, '::before').content),
      '"Email"',
    );
    const width = await phone.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 375, `no sideways scroll (${width})`);
    const admin = await phone.evaluate<{ scroll: number; client: number }>(
      `({ scroll: document.querySelector('.admin').scrollWidth, client: document.querySelector('.admin').clientWidth })`,
    );
    assert.ok(
      admin.scroll <= admin.client,
      `the admin view does not scroll sideways (${JSON.stringify(admin)})`,
    );
    await shot(phone, 'admin-people-375');
    // The widest table (tokens, with their scopes) fits too.
    await phone.goto(`${server!.url}/admin/tokens`);
    await phone.locator('td[data-label="Scopes"]').first().waitFor();
    const tokensWidth = await phone.evaluate<{ scroll: number; client: number }>(
      `({ scroll: document.querySelector('.admin').scrollWidth, client: document.querySelector('.admin').clientWidth })`,
    );
    assert.ok(tokensWidth.scroll <= tokensWidth.client, JSON.stringify(tokensWidth));
    await shot(phone, 'admin-tokens-375');
    await phone.context().close();
    const desk = await open(1280, 800, ada, '/admin/people');
    const deskCell = desk.getByRole('table', { name: 'People' }).locator('td[data-label="Email"]').first();
    await deskCell.waitFor();
    assert.equal(
      await deskCell.evaluate((td) => (globalThis as any).getComputedStyle(td).display),
      'table-cell',
    );
    await shot(desk, 'admin-people-1280');
    await desk.context().close();
  });
});
