/**
 * The web console in a real browser: a real `parley serve` on a temp SQLite file, the console
 * built by scripts/build-web.ts, and the system Chromium driven by playwright-core. Ada (the
 * demo owner) and Bob (a member, on a 360 px wide phone-sized context) talk live; Chen (an
 * operator) races Ada for a support chat; Ada restores a deleted chat and runs deletion jobs.
 * Screenshots of each main view go to test-results/console-*.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  apiJson,
  type ConsoleServer,
  launchChromium,
  noChromium,
  signInToConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = process.env.CONSOLE_SHOTS ?? join(ROOT, 'test-results');

describe('the web console', { skip: noChromium, timeout: 90_000 }, () => {
  let served: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const api = <T>(token: string, method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, token, method, path, body);

  async function signIn(context: BrowserContext, token: string): Promise<Page> {
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await signInToConsole(page, server!.url, token);
    await page.getByRole('status', { name: 'Realtime: Live' }).waitFor();
    return page;
  }

  const messages = (page: Page) => page.getByRole('list', { name: 'Messages' });
  const nav = (page: Page, name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `console-${name}.png`) });

  let ada: Page;
  let bob: Page;
  let chen: Page;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    served = await startConsoleServer('console');
    server = served.server;
    tokens.ada = served.token;
    const people = await api<{ items: { id: string; email: string | null; external_id: string | null }[] }>(
      tokens.ada,
      'GET',
      '/actors?limit=100',
    );
    const find = (pred: (a: { email: string | null; external_id: string | null }) => boolean) => {
      const a = people.items.find(pred);
      assert.ok(a);
      return a.id;
    };
    const member = [
      'conversations:read',
      'conversations:write',
      'messages:read',
      'messages:write',
      'people:read',
    ];
    const support = [...member, 'support:read', 'support:write'];
    for (const [name, email, scopes] of [
      ['bob', 'bob@demo.parley.local', member],
      ['chen', 'chen@demo.parley.local', support],
    ] as const) {
      const actorId = find((a) => a.email === email);
      tokens[name] = (
        await api<{ token: string }>(tokens.ada, 'POST', '/tokens', {
          name: `console-${name}`,
          scopes,
          actor_id: actorId,
        })
      ).token;
    }
    tokens.vera = (
      await api<{ token: string }>(tokens.ada, 'POST', '/tokens', {
        name: 'console-vera',
        scopes: support,
        actor_id: find((a) => a.external_id === 'visitor-1'),
      })
    ).token;
    ids.department = (await api<{ id: string }>(tokens.ada, 'POST', '/departments', { name: 'Billing' })).id;
    // Real deletion jobs run at once (the default off-peak window is the night).
    await api(tokens.ada, 'PUT', '/deletion-jobs/window', { any_time: true });
    browser = await launchChromium(['--disable-quic', '--disable-component-update', '--disable-sync']);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('signs in with a pasted token, which never appears in a URL', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(server!.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, 'signin');
    await page.getByLabel('Access token').fill('pk_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid' }).waitFor();
    await page.close();
    ada = await signIn(context, tokens.ada!);
    assert.ok(!ada.url().includes('pk_'));
    await ada.getByRole('link', { name: /^Launch plan/ }).waitFor();
    await ada.getByRole('link', { name: /^general/ }).waitFor();
    // A direct chat is named after the other person.
    await ada.getByRole('link', { name: /^Bob Member/ }).waitFor();
    await shot(ada, 'conversations');
    assert.ok(!server!.log().includes(tokens.ada!), 'the token is not in the server log');
  });

  test('a message sent by Ada arrives live at Bob on a 360 px screen, once', async () => {
    const phone = await browser!.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
    bob = await signIn(phone, tokens.bob!);
    await bob.getByRole('link', { name: /^Launch plan/ }).waitFor();
    await shot(bob, 'conversations-360px');
    await bob.getByRole('link', { name: /^Launch plan/ }).click();
    await bob.getByRole('heading', { name: 'Launch plan' }).waitFor();
    await ada.getByRole('link', { name: /^Launch plan/ }).click();
    await ada.getByRole('heading', { name: 'Launch plan' }).waitFor();

    const text = `Ship it at ${Date.now()}`;
    await ada.getByLabel('Message', { exact: true }).fill(text);
    await ada.getByRole('button', { name: 'Send' }).click();
    await messages(bob).getByText(text).waitFor({ timeout: 5000 });
    await messages(ada).getByText(text).waitFor();
    assert.equal(
      await messages(ada).getByText(text, { exact: true }).count(),
      1,
      'Ada sees her message once',
    );
    assert.equal(await messages(bob).getByText(text, { exact: true }).count(), 1, 'Bob sees it once');
    await shot(ada, 'conversation');
    await shot(bob, 'conversation-360px');
  });

  test('Bob reconnects after a drop and catches up without losing or duplicating', async () => {
    // Knock out Bob's socket the way a network failure would, and send while he is away.
    await bob.evaluate(() => {
      const s = (globalThis as unknown as { __parleyStream?: { drop(ms: number): void } }).__parleyStream;
      s?.drop(1500);
    });
    await bob.getByRole('status', { name: 'Realtime: Reconnecting…' }).waitFor();
    const text = `While you were away ${Date.now()}`;
    await api(tokens.ada!, 'POST', `/conversations/${await conversationId('Launch plan')}/messages`, {
      text,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await messages(bob).getByText(text).count(), 0, 'not delivered while disconnected');
    await messages(bob).getByText(text).waitFor({ timeout: 10_000 });
    await bob.getByRole('status', { name: 'Realtime: Live' }).waitFor();
    assert.equal(await messages(bob).getByText(text, { exact: true }).count(), 1);
    assert.equal(
      await messages(bob)
        .getByText(/^Ship it at/)
        .count(),
      1,
      'the earlier message is not repeated',
    );
  });

  async function conversationId(title: string): Promise<string> {
    const list = await api<{ items: { id: string; title: string | null }[] }>(
      tokens.ada!,
      'GET',
      '/conversations',
    );
    const c = list.items.find((x) => x.title === title);
    assert.ok(c);
    return c.id;
  }

  test('Ada pins a message for one hour; Bob sees the banner live; unpin removes it', async () => {
    const text = `Pin me ${Date.now()}`;
    // From the keyboard: Enter sends.
    await ada.getByLabel('Message', { exact: true }).fill(text);
    await ada.getByLabel('Message', { exact: true }).press('Enter');
    await ada.getByRole('button', { name: `Pin message: ${text}` }).click();
    await ada.getByLabel('Pin expires after').selectOption({ label: '1 hour' });
    await ada.getByRole('button', { name: 'Pin it' }).click();
    const banner = ada.getByRole('region', { name: 'Pinned message' });
    await banner.getByText(text).waitFor();
    await banner.getByText(/expires/).waitFor();
    await bob.getByRole('region', { name: 'Pinned message' }).getByText(text).waitFor({ timeout: 5000 });
    await shot(ada, 'pin');
    const pin = await api<{ expiry_time: number }>(
      tokens.bob!,
      'GET',
      `/conversations/${await conversationId('Launch plan')}/pin`,
    );
    const inAnHour = Date.now() + 3_600_000;
    assert.ok(
      Math.abs(pin.expiry_time - inAnHour) < 120_000,
      `expiry ${pin.expiry_time} is about an hour away`,
    );
    await bob.getByRole('region', { name: 'Pinned message' }).getByRole('button', { name: 'Unpin' }).click();
    await ada.getByRole('region', { name: 'Pinned message' }).waitFor({ state: 'detached', timeout: 5000 });
  });

  test('Ada mutes the group for 8 hours, and unmutes it', async () => {
    await ada.getByLabel('Mute for').selectOption({ label: '8 hours' });
    await ada.getByRole('button', { name: 'Mute', exact: true }).click();
    await ada.getByText(/^Muted until/).waitFor();
    await ada.getByRole('link', { name: /^Launch plan.*, muted$/ }).waitFor();
    const conv = await api<{ me: { muted_until: number } }>(
      tokens.ada!,
      'GET',
      `/conversations/${await conversationId('Launch plan')}`,
    );
    assert.ok(Math.abs(conv.me.muted_until - (Date.now() + 8 * 3_600_000)) < 120_000);
    await shot(ada, 'muted');
    await ada.getByRole('button', { name: 'Unmute' }).click();
    await ada.getByRole('button', { name: 'Mute', exact: true }).waitFor();
  });

  test('a draft is kept, shown in the list and filtered on', async () => {
    await ada.getByRole('link', { name: /^general/ }).click();
    await ada.getByRole('heading', { name: 'general' }).waitFor();
    await ada.getByLabel('Message', { exact: true }).fill('Half a thought');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await ada.getByRole('link', { name: /^Launch plan/ }).click();
    await ada.getByRole('heading', { name: 'Launch plan' }).waitFor();
    await ada
      .getByRole('link', { name: /^general/ })
      .getByText('Draft: Half a thought')
      .waitFor({ timeout: 5000 });
    await ada.getByLabel('Show').selectOption({ label: 'With drafts' });
    await ada.getByRole('link', { name: /^Launch plan/ }).waitFor({ state: 'detached' });
    await ada.getByRole('link', { name: /^general/ }).waitFor();
    await shot(ada, 'drafts-filter');
    await ada.getByLabel('Show').selectOption({ label: 'All' });
    await ada.getByRole('link', { name: /^Launch plan/ }).waitFor();
  });

  test('Bob types, replies, edits and deletes; Ada sees each live', async () => {
    await messages(bob).waitFor();
    await bob.getByLabel('Message', { exact: true }).fill('Looks');
    await ada.getByText('Bob Member is typing…').waitFor({ timeout: 5000 });
    // On a phone a message's actions are in its menu (⋯).
    await bob.getByRole('button', { name: /^Actions for Ada Owner: Ship it at/ }).click();
    await bob.getByRole('button', { name: /^Reply to Ada Owner: Ship it at/ }).click();
    const reply = `Agreed ${Date.now()}`;
    await bob.getByLabel('Message', { exact: true }).fill(reply);
    await bob.getByRole('button', { name: 'Send' }).click();
    const item = messages(ada).getByRole('listitem', { name: `Bob Member: ${reply}` });
    await item.waitFor({ timeout: 5000 });
    await item.getByText(/^↪ Ada Owner: Ship it at/).waitFor();
    await bob.getByRole('button', { name: `Actions for Bob Member: ${reply}` }).click();
    await bob.getByRole('button', { name: `Edit message: ${reply}` }).click();
    const edited = `${reply} (after QA)`;
    await bob.getByLabel('Message', { exact: true }).fill(edited);
    await bob.getByRole('button', { name: 'Save' }).click();
    const editedItem = messages(ada).getByRole('listitem', { name: `Bob Member: ${edited}` });
    await editedItem.getByText('(edited)').waitFor({ timeout: 5000 });
    await shot(bob, 'reply-edit-360px');
    await bob.getByRole('button', { name: `Actions for Bob Member: ${edited}` }).click();
    await bob.getByRole('button', { name: `Delete message: ${edited}` }).click();
    await messages(ada).getByRole('listitem', { name: 'Bob Member: deleted' }).waitFor({ timeout: 5000 });
    assert.equal(await messages(ada).getByText(edited).count(), 0);
  });

  test('Bob starts a group with Ada on his phone; it appears in her list live', async () => {
    await bob.getByRole('button', { name: /^← Back/ }).click();
    await bob.getByRole('button', { name: 'New conversation' }).click();
    await bob.getByLabel('Type').selectOption('group');
    await bob.getByLabel('Title').fill('Release notes');
    // The people picker: users only, found by name.
    await bob.getByLabel('Find people').fill('ada');
    await bob.getByRole('checkbox', { name: /^Ada Owner/ }).check();
    await bob.getByRole('button', { name: 'Create' }).click();
    await bob.getByRole('heading', { name: 'Release notes' }).waitFor();
    await ada.getByRole('link', { name: /^Release notes/ }).waitFor({ timeout: 5000 });
  });

  test('Ada and Chen race for a support chat: one wins, the other sees who won', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    chen = await signIn(context, tokens.chen!);
    for (const p of [ada, chen]) {
      await nav(p, 'Support queue').click();
      await p.getByRole('heading', { name: 'Waiting support chats' }).waitFor();
    }
    await shot(chen, 'queue-empty');
    const chat = await api<{ id: string; reference_id: string }>(tokens.vera!, 'POST', '/support/chats', {
      department_id: ids.department,
      question: 'Why was I charged twice?',
    });
    ids.chat = chat.id;
    const pickup = (p: Page) =>
      p.getByRole('button', { name: `Pick up chat #${chat.reference_id} from Vera Visitor` });
    // The chat appears live in both queues.
    await pickup(ada).waitFor({ timeout: 5000 });
    await pickup(chen).waitFor({ timeout: 5000 });
    await shot(chen, 'queue');
    await Promise.all([pickup(ada).click(), pickup(chen).click()]);
    const won = async (p: Page) =>
      p
        .getByRole('heading', { name: `Chat #${chat.reference_id}: connected` })
        .waitFor({ timeout: 5000 })
        .then(() => true);
    const lost = async (p: Page) =>
      p
        .getByText(/^Too late: .* picked up chat/)
        .waitFor({ timeout: 5000 })
        .then(() => false);
    const [adaWon, chenWon] = await Promise.all([
      Promise.race([won(ada), lost(ada)]),
      Promise.race([won(chen), lost(chen)]),
    ]);
    assert.notEqual(adaWon, chenWon, 'exactly one operator wins');
    const winner = adaWon ? ada : chen;
    const loser = adaWon ? chen : ada;
    await loser
      .getByText(adaWon ? 'Too late: Ada Owner picked up' : 'Too late: Chen Operator picked up')
      .waitFor();
    await winner
      .getByRole('list', { name: 'Visitor details' })
      .or(winner.getByText('vera@example.com'))
      .first()
      .waitFor();
    await shot(winner, 'pickup-won');
    await shot(loser, 'pickup-lost');
    // The winner ends the chat and deletes it to the recycle bin.
    await winner.getByRole('button', { name: 'End chat' }).click();
    await winner.getByRole('heading', { name: `Chat #${chat.reference_id}: ended` }).waitFor();
    await winner.getByRole('button', { name: 'Delete to recycle bin' }).click();
    await winner.getByText(`Chat #${chat.reference_id} moved to the recycle bin.`).waitFor();
  });

  test('Ada restores the deleted chat from the recycle bin', async () => {
    await nav(ada, 'Admin').click();
    await ada.getByRole('heading', { name: 'Recycle bin' }).waitFor();
    const restore = ada.getByRole('button', { name: /^Restore #1 / });
    await restore.waitFor();
    await shot(ada, 'recycle-bin');
    await restore.click();
    await ada.getByText('Restored chat #1.').waitFor();
    await ada.getByText('The recycle bin is empty.').waitFor();
    const chat = await api<{ state: string }>(tokens.ada!, 'GET', `/support/chats/${ids.chat}`);
    assert.equal(chat.state, 'ended');
  });

  test('Ada previews a deletion with a dry run, then deletes for real', async () => {
    await ada.getByRole('link', { name: 'Deletion jobs' }).click();
    await ada.getByRole('heading', { name: 'Deletion jobs' }).waitFor();
    await ada.getByLabel('Conversation ids (comma or space separated)').fill(ids.chat!);
    await ada.getByRole('button', { name: 'Preview (dry run)' }).click();
    const dry = ada.getByRole('article', { name: /^Dry run cdj-/ });
    await dry.getByText('completed').waitFor({ timeout: 10_000 });
    await dry.getByText(/Would delete 1 conversation and/).waitFor();
    assert.equal(
      (await api<{ state: string }>(tokens.ada!, 'GET', `/support/chats/${ids.chat}`)).state,
      'ended',
    );
    await ada.getByRole('button', { name: 'Delete for good' }).click();
    const real = ada.getByRole('article', { name: /^Deletion job cdj-/ });
    await real.getByText('completed').waitFor({ timeout: 20_000 });
    await real.getByText(/Deleted 1 conversation and/).waitFor();
    await shot(ada, 'deletion-jobs');
    const res = await fetch(`${server!.url}/v1/support/chats/${ids.chat}`, {
      headers: { authorization: `Bearer ${tokens.ada}` },
    });
    assert.equal(res.status, 404);
  });

  test('Ada sees webhooks, tokens, API apps and rate limits', async () => {
    const admin = ada.getByRole('navigation', { name: 'Admin' });
    await admin.getByRole('link', { name: 'Webhooks' }).click();
    await ada.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await ada.getByText('No webhooks yet.').waitFor();
    // A local port nobody listens on: deliveries fail without leaving the machine.
    const hook = `${server!.url.replace(/:\d+$/, ':9')}/hook`;
    await ada.getByLabel('Webhook URL').fill(hook);
    await ada.getByLabel('Events').selectOption(['message.created']);
    await ada.getByRole('button', { name: 'Create webhook' }).click();
    await ada.getByText(/Signing secret \(shown once\)/).waitFor();
    await ada.getByRole('button', { name: `Failed deliveries of ${hook}` }).click();
    await ada.getByText('No failed deliveries.').waitFor();
    await shot(ada, 'webhooks');
    await admin.getByRole('link', { name: 'Tokens' }).click();
    await ada.getByRole('button', { name: 'Revoke token console-bob' }).waitFor();
    await shot(ada, 'tokens');
    await admin.getByRole('link', { name: 'API apps' }).click();
    await ada.getByLabel('App name').fill('backend');
    await ada.getByRole('button', { name: 'Create app' }).click();
    await ada.getByText(/server secret .* \(shown once\)/).waitFor();
    await ada.getByRole('button', { name: 'Revoke app backend' }).waitFor();
    await admin.getByRole('link', { name: 'Rate limits' }).click();
    await ada.getByRole('cell', { name: 'native', exact: true }).waitFor();
    await shot(ada, 'rate-limits');
  });

  test('the conversation list loads the next page by cursor when scrolled to its end', async () => {
    for (let n = 1; n <= 22; n++) {
      await api(tokens.ada!, 'POST', '/conversations', {
        kind: 'group',
        title: `Batch ${n}`,
        member_ids: [],
      });
    }
    await nav(ada, 'Conversations').click();
    const list = ada.getByRole('list', { name: 'Conversation list' });
    await list.getByRole('link', { name: /^Batch 22/ }).waitFor();
    assert.equal(await list.getByRole('link', { name: /^Batch / }).count(), 20, 'a first page of 20');
    await list.getByRole('listitem').last().scrollIntoViewIfNeeded();
    await list.getByRole('link', { name: /^general/ }).waitFor({ timeout: 5000 });
    assert.equal(await list.getByRole('link', { name: /^Batch / }).count(), 22);
  });
});

describe('serving the console', () => {
  let served: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  before(async () => {
    served = await startConsoleServer('console-static', { seed: false });
    server = served.server;
  });
  after(async () => served?.close());

  test('/ and any page a browser asks for get the console; the API keeps its JSON errors', async () => {
    const get = (path: string, init: RequestInit = {}) => fetch(`${server!.url}${path}`, init);
    const html = { headers: { accept: 'text/html,application/xhtml+xml' } };
    const root = await get('/');
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /^text\/html/);
    const page = await root.text();
    assert.match(page, /<div id="root">/);
    const deep = await get('/conversations/123', html);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), page);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    assert.ok(asset, 'the index names its script');
    const js = await get(asset);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    await js.arrayBuffer();
    for (const [path, init] of [
      ['/v1/nope', html],
      ['/compat/nope', html],
      ['/nope', {}],
      ['/assets/missing.js', {}],
    ] as const) {
      const res = await get(path, init);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
      await res.arrayBuffer();
    }
    const post = await get('/', { method: 'POST' });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'route_not_found');
    const healthz = await get('/healthz', html);
    assert.deepEqual(await healthz.json(), { ok: true });
  });
});
