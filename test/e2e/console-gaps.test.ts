/**
 * The console's remaining support and team-chat gaps (issues 16 and 18), in a real browser
 * against a real server: missed chats in the list's Support section and the queue view (live,
 * newest first, opened with the visitor's email and no composer, deleted to the recycle bin);
 * an ended chat's composer replaced by a notice (live); a connected chat transferred to an
 * operator of another department in one step; the header's actions folded behind ⋯ beside the
 * visitor column at 1280 px; plural counts ("1 member"); the composer keeping what is typed
 * while a send is under way (and giving the text back when the send fails); renaming a group,
 * adding and removing members, the member list with roles and a refusal worded by the server;
 * the mention picker and member list past the first 100 members; the Me menu (away and back,
 * digest mail); the org's team-chat settings (a refusal changes nothing); following a thread.
 * Screenshots at 1280 and 375 px go to $GAPS_SHOTS (default test-results/).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-web.ts';
import {
  apiCall,
  apiJson,
  type ConsoleServer,
  demoPeople,
  launchChromium,
  MEMBER_SCOPES as MEMBER,
  messageItem,
  noChromium,
  openConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = process.env.GAPS_SHOTS ?? join(ROOT, 'test-results');

const STAFF = [...MEMBER, 'support:read', 'support:write'];

describe('the console: missed chats, closed chats, members, settings', {
  skip: noChromium,
  timeout: 400_000,
}, () => {
  let parley: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let ada = '';
  let bob = '';
  let chen = '';
  const ids = {} as Record<string, string>;
  let widgetKey = '';
  let sales = '';
  let billing = '';

  const call = (token: string, method: string, path: string, body?: unknown) =>
    apiCall(server!, token, method, path, body);
  const api = <T = any>(token: string, method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, token, method, path, body);
  /** A new visitor of the widget: their credential. */
  async function visitor(name: string): Promise<string> {
    const res = await fetch(`${server!.url}/v1/widget/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        key: widgetKey,
        name,
        email: `${name.split(' ')[0]!.toLowerCase()}@example.com`,
      }),
    });
    const json = (await res.json()) as { token: string };
    assert.equal(res.status, 201, JSON.stringify(json));
    return json.token;
  }
  const open = (width: number, token: string, path = '/') =>
    openConsole(browser!, server!.url, token, {
      width,
      height: width < 600 ? 740 : 860,
      path,
      timeoutMs: 15_000,
    });
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `console2-${name}.png`) });
  const message = messageItem;

  before(async () => {
    await buildConsole();
    await mkdir(SHOTS, { recursive: true });
    parley = await startConsoleServer('console-gaps');
    server = parley.server;
    ada = parley.token;
    Object.assign(ids, await demoPeople(server, ada));
    bob = (await api(ada, 'POST', '/tokens', { name: 'g-bob', scopes: MEMBER, actor_id: ids['Bob Member'] }))
      .token;
    chen = (
      await api(ada, 'POST', '/tokens', { name: 'g-chen', scopes: STAFF, actor_id: ids['Chen Operator'] })
    ).token;
    sales = (await api(ada, 'POST', '/departments', { name: 'Sales' })).id;
    billing = (await api(ada, 'POST', '/departments', { name: 'Billing' })).id;
    // Chen serves Billing only: a Sales chat reaches him only by moving it to Billing.
    await api(ada, 'PUT', `/departments/${billing}/operators`, { operator_ids: [ids['Chen Operator']] });
    widgetKey = (
      await api(ada, 'POST', '/widgets', {
        name: 'Acme',
        allowed_origins: ['https://shop.example.com'],
        department_ids: [sales, billing],
        prechat: { name: 'required', email: 'optional', question: 'optional' },
      })
    ).public_key;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await parley?.close();
  });

  test('missed chats: in the list and the queue, live, newest first; opened with the email and no composer; deleted', async () => {
    const mia = await visitor('Mia Missed');
    const left = await api(mia, 'POST', '/widget/offline-messages', {
      email: 'mia@example.com',
      name: 'Mia Missed',
      department_id: sales,
      message: 'Nobody was there: please mail me the price list for the blue teapot.',
    });
    const page = await open(1280, ada);
    const missed = page.getByRole('list', { name: 'Missed chats' });
    await missed.getByRole('link', { name: 'Mia Missed, missed in Sales' }).waitFor();
    await missed.getByText(/please mail me the price list/).waitFor();
    await page.locator('.support-section').getByText('1 missed').waitFor();

    // A second one arrives live (support.missed) and goes on top.
    const max = await visitor('Max Later');
    await api(max, 'POST', '/widget/offline-messages', {
      email: 'max@example.com',
      name: 'Max Later',
      department_id: billing,
      message: 'Call me back about my invoice',
    });
    await page.locator('.support-section').getByText('2 missed').waitFor();
    const names = await missed
      .getByRole('link')
      .evaluateAll((links) => links.map((l) => l.getAttribute('aria-label')));
    assert.deepEqual(names, ['Max Later, missed in Billing', 'Mia Missed, missed in Sales']);
    await shot(page, 'missed-list-1280');

    // Opened: the visitor panel with the email, a notice instead of the composer.
    await missed.getByRole('link', { name: /Mia Missed/ }).click();
    await page.getByRole('heading', { name: 'Mia Missed', level: 2 }).waitFor();
    await page.getByText('Missed chat: answer the visitor by email at').waitFor();
    assert.equal(
      await page.locator('.chat-closed a').getAttribute('href'),
      'mailto:mia@example.com',
      'the notice links the email',
    );
    assert.equal(await page.locator('#composer').count(), 0, 'no composer in a missed chat');
    await page.locator('.visitor-panel').getByText('mia@example.com').first().waitFor();
    // The server refuses posts there too (the console offers none).
    const refused = await call(ada, 'POST', `/conversations/${left.id}/messages`, { text: 'hello?' });
    assert.ok(refused.status >= 400, `a post to a missed chat is refused (${refused.status})`);
    await shot(page, 'missed-chat-1280');

    // The queue view lists them too.
    await page.goto(`${server!.url}/support`);
    const queueMissed = page.getByRole('region', { name: /Missed chats/ });
    await queueMissed.getByRole('link', { name: 'Max Later, missed in Billing' }).waitFor();
    await shot(page, 'missed-queue-1280');

    // Delete to the recycle bin: gone from the list, in the bin.
    await page.goto(`${server!.url}/conversations/${left.id}`);
    await page.getByRole('button', { name: 'Delete to recycle bin' }).click();
    await page.getByRole('button', { name: 'Delete now' }).click();
    await page.locator('.support-section').getByText('1 missed').waitFor();
    await page.waitForURL(/\/conversations$/);
    const bin = await api<{ items: { id: string }[] }>(ada, 'GET', '/recycle-bin');
    assert.ok(
      bin.items.some((c) => c.id === left.id),
      'the missed chat is in the recycle bin',
    );

    // On a phone.
    const phone = await open(375, ada);
    await phone
      .getByRole('list', { name: 'Missed chats' })
      .getByRole('link', { name: /Max Later/ })
      .waitFor();
    await shot(phone, 'missed-list-375');
    await phone
      .getByRole('list', { name: 'Missed chats' })
      .getByRole('link', { name: /Max Later/ })
      .click();
    await phone.getByText('Missed chat: answer the visitor by email at').waitFor();
    await shot(phone, 'missed-chat-375');
    const width = await phone.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 375, `no sideways scroll on the phone (${width})`);
    await phone.goto(`${server!.url}/support`);
    await phone
      .getByRole('region', { name: /Missed chats/ })
      .getByRole('link', { name: /Max Later/ })
      .waitFor();
    await shot(phone, 'missed-queue-375');
    await phone.context().close();
    await page.context().close();
  });

  test('an ended chat has no composer (live); transfer to an operator of another department; actions behind ⋯', async () => {
    await api(ada, 'PUT', '/support/availability', { status: 'available' });
    const eve = await visitor('Eve Ending');
    const chat = await api(eve, 'POST', '/widget/chats', { name: 'Eve Ending', question: 'Is it open?' });
    await api(ada, 'POST', `/support/chats/${chat.id}/pickup`);
    const page = await open(1280, ada, `/conversations/${chat.id}`);
    await page.getByRole('heading', { name: 'Eve Ending', level: 2 }).waitFor();
    await page.locator('#composer').waitFor();
    await page.getByText('you attend it').waitFor();

    // At 1280 px with the visitor column, Mute, Pin, Hide and Leave are behind ⋯ (one row).
    const head = page.locator('.thread-head');
    assert.equal(await page.getByRole('button', { name: 'Pin to list' }).isVisible(), false);
    const box = await head.boundingBox();
    assert.ok(box && box.height < 70, `the header is one row (${box?.height})`);
    await page.getByRole('button', { name: 'Conversation actions' }).click();
    await page.getByRole('button', { name: 'Pin to list' }).waitFor();
    await shot(page, 'support-header-menu-1280');
    await page.getByRole('button', { name: 'Conversation actions' }).click();

    // The visitor ends it: the composer goes, live.
    await api(eve, 'POST', `/widget/chats/${chat.id}/end`);
    await page.getByText('This chat has ended.').waitFor();
    assert.equal(await page.locator('#composer').count(), 0, 'no composer in an ended chat');
    await shot(page, 'ended-chat-1280');
    const phone = await open(375, ada, `/conversations/${chat.id}`);
    await phone.getByText('This chat has ended.').waitFor();
    await shot(phone, 'ended-chat-375');
    await phone.context().close();

    // A connected Sales chat goes to Chen (who serves Billing only) and to Billing, in one step.
    const tom = await visitor('Tom Transfer');
    const sale = await api(tom, 'POST', '/widget/chats', {
      name: 'Tom Transfer',
      question: 'Invoice, really',
      department_id: sales,
    });
    await api(ada, 'POST', `/support/chats/${sale.id}/pickup`);
    await page.goto(`${server!.url}/conversations/${sale.id}`);
    await page.getByText('you attend it').waitFor();
    const select = page.getByRole('combobox', { name: 'Transfer to' });
    const labels = await select.locator('option').allTextContents();
    assert.ok(!labels.includes('Chen Operator'), 'Chen does not serve Sales');
    await select.selectOption({ label: 'Chen Operator (Billing)' });
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await page.getByText('Transferred to Chen Operator (Billing).').waitFor();
    await page.getByText('Chen Operator attends it').waitFor();
    const moved = await api(ada, 'GET', `/support/chats/${sale.id}`);
    assert.equal(moved.attender.name, 'Chen Operator');
    assert.equal(moved.department.name, 'Billing');
    await api(chen, 'POST', `/support/chats/${sale.id}/end`);
    await api(ada, 'PUT', '/support/availability', { status: 'away' });
    await page.context().close();
  });

  test('plural counts, and the composer keeps what is typed while a send is under way', async () => {
    const solo = await api(ada, 'POST', '/conversations', {
      kind: 'group',
      title: 'Solo notes',
      member_ids: [],
    });
    const page = await open(1280, ada, `/conversations/${solo.id}`);
    await page.locator('.thread-head').getByText('1 member', { exact: true }).waitFor();

    // The send is held until the next text is typed: that text stays when the send returns.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/v1/conversations/*/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await held;
      await route.continue();
    });
    const box = page.locator('#composer');
    await box.fill('first thought');
    await box.press('Enter');
    assert.equal(await box.inputValue(), '', 'the box clears at once');
    await box.pressSequentially('second thought');
    release();
    await message(page, 'first thought').waitFor();
    await page.waitForFunction("!document.querySelector('form.composer button[type=submit][disabled]')");
    assert.equal(await box.inputValue(), 'second thought', 'what was typed during the send stays');

    // A send that fails gives the text back.
    await page.unroute('**/v1/conversations/*/messages');
    await page.route('**/v1/conversations/*/messages', (route) =>
      route.request().method() === 'POST' ? route.abort('failed') : route.continue(),
    );
    await box.press('Enter');
    await page.getByRole('alert').first().waitFor();
    await page.waitForFunction("document.querySelector('#composer').value === 'second thought'");
    await page.unroute('**/v1/conversations/*/messages');
    const stored = await api(ada, 'GET', `/conversations/${solo.id}/messages`);
    assert.deepEqual(
      stored.items.map((m: { text: string }) => m.text),
      ['first thought'],
      'only the first text was sent',
    );
    await page.context().close();
  });

  test('rename, add and remove members, roles, and refusals as the server words them', async () => {
    const room = await api(ada, 'POST', '/conversations', {
      kind: 'group',
      title: 'Ops room',
      member_ids: [ids['Bob Member']],
    });
    const page = await open(1280, ada, `/conversations/${room.id}`);
    await page.locator('.thread-head').getByText('2 members', { exact: true }).waitFor();
    await page.getByText(/2 members ·/).click();
    const list = page.getByRole('list', { name: 'Members' });
    await list
      .getByRole('listitem')
      .filter({ hasText: 'Ada Owner' })
      .getByText('owner', { exact: true })
      .waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Ops HQ');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'Ops HQ', level: 2 }).waitFor();
    assert.equal((await api(ada, 'GET', `/conversations/${room.id}`)).title, 'Ops HQ');

    await page.getByRole('button', { name: 'Add people' }).click();
    const picker = page.locator('.add-members');
    await picker.getByLabel('Find people').fill('chen');
    await picker.getByRole('checkbox', { name: /Chen Operator/ }).check();
    await shot(page, 'add-people-1280');
    await picker.getByRole('button', { name: 'Add 1 person' }).click();
    await page.getByText('Added Chen Operator.').waitFor();
    await list.getByRole('listitem').filter({ hasText: 'Chen Operator' }).waitFor();
    await page.locator('.thread-head').getByText('3 members', { exact: true }).waitFor();
    await shot(page, 'members-1280');

    await page.getByRole('button', { name: 'Remove Bob Member' }).click();
    await page.getByText('Removed Bob Member.').waitFor();
    await page.locator('.thread-head').getByText('2 members', { exact: true }).waitFor();
    const members = await api(ada, 'GET', `/conversations/${room.id}/members?fields=id`);
    assert.deepEqual(
      members.items.map((m: { id: string }) => m.id).sort(),
      [ids.ada, ids['Chen Operator']].sort(),
    );

    // Bob in a channel he does not run: no Remove; a rename is refused in the server's words.
    const channel = await api(ada, 'POST', '/conversations', {
      kind: 'channel',
      title: 'announcements',
      member_ids: [ids['Bob Member']],
    });
    const bobPage = await open(375, bob, `/conversations/${channel.id}`);
    await bobPage.getByText(/2 members ·/).click();
    await bobPage.getByRole('list', { name: 'Members' }).getByRole('listitem').first().waitFor();
    assert.equal(await bobPage.getByRole('button', { name: /^Remove / }).count(), 0, 'no Remove for Bob');
    await bobPage.getByLabel('Name', { exact: true }).fill('my channel');
    await bobPage.getByRole('button', { name: 'Rename' }).click();
    await bobPage.getByRole('alert').getByText('Only the owner or an admin can rename this').waitFor();
    assert.equal((await api(ada, 'GET', `/conversations/${channel.id}`)).title, 'announcements');
    await shot(bobPage, 'members-refused-375');
    await bobPage.context().close();
    await page.context().close();
  });

  test('the mention picker and the member list see members past the first 100', async () => {
    const extra: string[] = [];
    for (let i = 0; i < 101; i++) {
      const a = await api(ada, 'POST', '/actors', {
        kind: 'user',
        name: `Crowd ${String(i).padStart(3, '0')}`,
        role: 'member',
      });
      extra.push(a.id);
    }
    const zed = (await api(ada, 'POST', '/actors', { kind: 'user', name: 'Zed Paging', role: 'member' })).id;
    const big = await api(ada, 'POST', '/conversations', {
      kind: 'channel',
      title: 'Everyone',
      member_ids: extra.slice(0, 100),
    });
    await api(ada, 'POST', `/conversations/${big.id}/members`, { actor_ids: [extra[100], zed] });
    const first = await api(ada, 'GET', `/conversations/${big.id}/members?fields=id&limit=100`);
    assert.ok(first.next_cursor, 'more than one page of members');
    assert.ok(!first.items.some((m: { id: string }) => m.id === zed), 'Zed is not on the first page');

    const page = await open(1280, ada, `/conversations/${big.id}`);
    await page.locator('#composer').fill('Hello @Zed');
    await page.getByRole('option', { name: /Zed Paging/ }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByText(/103 members ·/).click();
    await shot(page, 'members-paged-1280');
    await page
      .getByRole('list', { name: 'Members' })
      .getByRole('listitem', { name: /^Zed Paging,/ })
      .waitFor();
    await page.context().close();
  });

  test('the Me menu (away and back, digest mail) and the org team-chat settings', async () => {
    const page = await open(1280, bob);
    await page.locator('.me-menu > summary').click();
    const me = page.getByRole('region', { name: 'Me' });
    await me.getByRole('button', { name: 'Set yourself away' }).click();
    await me.getByText('You are away.').waitFor();
    const status = async () =>
      (await api(bob, 'GET', `/presence?ids=${ids['Bob Member']}`)).items[0].status as string;
    assert.equal(await status(), 'away');
    await page.locator('.me-menu > summary').getByText('away').waitFor();
    await me
      .getByLabel('Mail me unread mentions and direct messages')
      .selectOption({ label: 'after 1 hour away' });
    await me.getByText('Mail setting saved.').waitFor();
    assert.equal((await api(bob, 'GET', '/me/notifications')).digest_minutes, 60);
    await shot(page, 'me-menu-1280');
    await me.getByRole('button', { name: 'I’m back' }).click();
    await me.getByRole('button', { name: 'Set yourself away' }).waitFor();
    assert.equal(await status(), 'online');
    await me
      .getByLabel('Mail me unread mentions and direct messages')
      .selectOption({ label: 'the org’s default' });
    await me.getByText('Mail setting saved.').waitFor();
    assert.equal((await api(bob, 'GET', '/me/notifications')).digest_minutes, null);
    const phone = await open(375, bob);
    await phone.getByRole('button', { name: 'Menu' }).click();
    await phone.locator('.me-menu > summary').click();
    await phone
      .getByRole('region', { name: 'Me' })
      .getByRole('button', { name: 'Set yourself away' })
      .waitFor();
    await shot(phone, 'me-menu-375');
    await phone.context().close();
    await page.context().close();

    // Admin → Org settings → Team chat.
    const admin = await open(1280, ada, '/admin/settings');
    const form = admin.getByRole('form', { name: 'Team chat' });
    await form.getByLabel('Largest group that shows read receipts (members)').fill('8');
    await form.getByLabel(/Allow/).uncheck();
    await form.getByLabel('Minutes away before unread mentions are mailed (digest; 0: never)').fill('45');
    await form.getByRole('button', { name: 'Save team chat' }).click();
    await form.getByText('Team-chat settings saved.').waitFor();
    let s = await api(ada, 'GET', '/team-chat/settings');
    assert.equal(s.read_receipts_max_members, 8);
    assert.equal(s.mention_all, false);
    assert.equal(s.digest_after_minutes, 45);
    await form.getByLabel('Largest group that shows read receipts (members)').fill('1');
    await form.getByRole('button', { name: 'Save team chat' }).click();
    await form.getByRole('alert').waitFor();
    s = await api(ada, 'GET', '/team-chat/settings');
    assert.equal(s.read_receipts_max_members, 8, 'a refused change changes nothing');
    await form.getByLabel('Largest group that shows read receipts (members)').fill('8');
    await form.getByLabel(/Read receipts/).uncheck();
    await form.getByRole('button', { name: 'Save team chat' }).click();
    await form.getByText('Team-chat settings saved.').waitFor();
    assert.equal((await api(ada, 'GET', '/team-chat/settings')).read_receipts, false);
    await form.scrollIntoViewIfNeeded();
    await shot(admin, 'admin-teamchat-1280');
    await api(ada, 'PATCH', '/team-chat/settings', {
      read_receipts: true,
      mention_all: true,
      digest_after_minutes: 30,
    });
    const adminPhone = await open(375, ada, '/admin/settings');
    await adminPhone.getByRole('form', { name: 'Team chat' }).scrollIntoViewIfNeeded();
    await adminPhone
      .getByRole('form', { name: 'Team chat' })
      .getByRole('button', { name: 'Save team chat' })
      .waitFor();
    await shot(adminPhone, 'admin-teamchat-375');
    await adminPhone.context().close();
    await admin.context().close();
  });

  test('follow and unfollow a thread from its panel', async () => {
    const room = await api(ada, 'POST', '/conversations', {
      kind: 'group',
      title: 'Thread room',
      member_ids: [ids['Bob Member'], ids['Chen Operator']],
    });
    const root = await api(bob, 'POST', `/conversations/${room.id}/messages`, { text: 'Root by Bob' });
    await api(chen, 'POST', `/conversations/${room.id}/messages`, {
      text: 'A reply by Chen',
      reply_to: root.id,
    });
    const page = await open(1280, ada, `/conversations/${room.id}/t/${root.id}`);
    const panel = page.getByRole('complementary', { name: 'Thread' });
    const following = async () =>
      (await api(ada, 'GET', `/conversations/${room.id}/messages/${root.id}/thread`)).me.following as boolean;
    assert.equal(await following(), false);
    await panel.getByRole('button', { name: 'Follow', pressed: false }).click();
    await panel.getByRole('button', { name: 'Following', pressed: true }).waitFor();
    assert.equal(await following(), true);
    await shot(page, 'thread-following-1280');
    await panel.getByRole('button', { name: 'Following' }).click();
    await panel.getByRole('button', { name: 'Follow', pressed: false }).waitFor();
    assert.equal(await following(), false);
    await page.context().close();
  });
});
