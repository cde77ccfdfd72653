/**
 * The widget follows live support state in a real browser (a real `parley serve` on SQLite, the
 * built widget on a page of another origin, the system Chromium through playwright-core):
 * - an operator switching available/away turns the panel's start view between the chat form and
 *   the leave-a-message form without a reload, keeping what the visitor typed (the panel gets its
 *   credential, and so its stream, when the visitor first touches a form);
 * - outside a department's opening hours the panel offers the form and says when it opens, and
 *   switches back live when the hours change;
 * - the operator reading the chat shows "Seen" from the stream, with no request for the chat.
 * Screenshots at 1280 and 375 px go to $WIDGET_SHOTS (default test-results/).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWidget } from '../../scripts/build-widget.ts';
import {
  apiJson,
  type ConsoleServer,
  launchChromium,
  noChromium,
  type Site,
  serveSite,
  startConsoleServer,
  widgetLauncher,
  widgetPanel,
  widgetSnippet,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = process.env.WIDGET_SHOTS ?? join(ROOT, 'test-results');

describe('the widget follows availability, hours and read state live', {
  skip: noChromium,
  timeout: 120_000,
}, () => {
  let parley: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let shop: Site;
  let shopUrl: string;
  let ada: string;
  let dept: { id: string };
  let widget: { public_key: string };

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, ada, method, path, body);

  const panel = widgetPanel;
  const launcher = widgetLauncher;
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `widget-live-${name}.png`) });

  before(async () => {
    await buildWidget();
    await mkdir(SHOTS, { recursive: true });
    parley = await startConsoleServer('widget-live');
    server = parley.server;
    ada = parley.token;
    // The shop is on localhost, Parley on 127.0.0.1; the widget (made below) is read when served.
    shop = await serveSite('localhost', (parley) => widgetSnippet(widget.public_key)(parley), server.url);
    shopUrl = shop.url;
    dept = await api<{ id: string }>('POST', '/departments', { name: 'Sales' });
    widget = await api('POST', '/widgets', {
      name: 'Acme',
      allowed_origins: [shopUrl],
      department_ids: [dept.id],
      colour: '#0f766e',
      greeting: 'Hi! Ask us anything about your order.',
      offline_message: 'Nobody is here right now. Leave a message and we will write back.',
      prechat: { name: 'required', email: 'optional', question: 'required' },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await parley?.close();
    shop?.server.close();
  });

  test('available / away switches the start view live, keeping what was typed', async () => {
    await api('PUT', '/support/availability', { status: 'away' });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(shopUrl);
    await launcher(page).click();
    const p = panel(page);
    await p.getByRole('form', { name: 'Leave a message' }).waitFor();
    await p.getByLabel('Name (optional)').fill('Vera Visitor');
    await p.getByRole('textbox', { name: 'Message', exact: true }).fill('Is the teapot in stock?');
    await shot(page, '1280-away');

    await api('PUT', '/support/availability', { status: 'available' });
    await p.getByRole('form', { name: 'Start a chat' }).waitFor();
    assert.equal(await p.getByLabel('Name').inputValue(), 'Vera Visitor', 'the name is kept');
    assert.equal(await p.getByLabel('How can we help?').inputValue(), 'Is the teapot in stock?');
    await shot(page, '1280-available');
    await page.setViewportSize({ width: 375, height: 740 });
    await shot(page, '375-available');
    await page.setViewportSize({ width: 1280, height: 800 });

    await api('PUT', '/support/availability', { status: 'away' });
    await p.getByRole('form', { name: 'Leave a message' }).waitFor();
    assert.equal(
      await p.getByRole('textbox', { name: 'Message', exact: true }).inputValue(),
      'Is the teapot in stock?',
    );
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('outside the opening hours: the form, when it opens, and back live when the hours change', async () => {
    await api('PUT', '/support/availability', { status: 'available' });
    // Open only on the day after tomorrow (UTC): closed now, whatever the time.
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 2) % 7]!;
    await api('PUT', `/departments/${dept.id}/hours`, {
      hours: { time_zone: 'UTC', weekly: { [day]: [{ start: '09:00', end: '17:00' }] } },
    });
    for (const width of [1280, 375]) {
      const context = await browser!.newContext({
        viewport: { width, height: width === 375 ? 740 : 800 },
        ...(width === 375 ? { isMobile: true, hasTouch: true } : {}),
      });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      await page.goto(shopUrl);
      await launcher(page).click();
      const p = panel(page);
      await p.getByRole('form', { name: 'Leave a message' }).waitFor();
      await p.getByText(/^We open again /).waitFor();
      assert.equal(await p.locator('header p').textContent(), 'Closed');
      await shot(page, `${width}-closed`);
      if (width === 1280) {
        // The visitor starts filling in the form: from then on the panel follows changes live.
        await p.getByLabel('Name (optional)').fill('Hugo Hours');
        await api('PUT', `/departments/${dept.id}/hours`, { hours: null });
        await p.getByRole('form', { name: 'Start a chat' }).waitFor();
        assert.equal(await p.getByLabel('Name').inputValue(), 'Hugo Hours');
        await api('PUT', `/departments/${dept.id}/hours`, {
          hours: { time_zone: 'UTC', weekly: { [day]: [{ start: '09:00', end: '17:00' }] } },
        });
        await p.getByRole('form', { name: 'Leave a message' }).waitFor();
      }
      await context.close();
    }
    await api('PUT', `/departments/${dept.id}/hours`, { hours: null });
  });

  test('"Seen" comes from the stream when the operator reads, without asking for the chat', async () => {
    await api('PUT', '/support/availability', { status: 'available' });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(shopUrl);
    await launcher(page).click();
    const p = panel(page);
    await p.getByLabel('Name').fill('Sam Seen');
    await p.getByLabel('How can we help?').fill('Hello there');
    await p.getByRole('button', { name: 'Start chat' }).click();
    await p.getByText('Waiting for an operator…').waitFor();
    const queue = await api<{ items: { id: string; visitor: { name: string } }[] }>('GET', '/support/queue');
    const chat = queue.items.find((c) => c.visitor.name === 'Sam Seen');
    assert.ok(chat);
    await api('POST', `/support/chats/${chat.id}/pickup`, {});
    await api('POST', `/conversations/${chat.id}/messages`, { text: 'Hi Sam, how can I help?' });
    await p.getByText('Hi Sam, how can I help?').waitFor();
    await p.getByPlaceholder('Write a message…').fill('My order is late');
    await p.getByPlaceholder('Write a message…').press('Enter');
    await p.getByText('My order is late').waitFor();
    assert.equal(await p.getByText(/· Seen/).count(), 0, 'not seen yet');
    const chatReads: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === `/v1/widget/chats/${chat.id}`) chatReads.push(r.url());
    });
    await api('POST', `/conversations/${chat.id}/read`, {});
    await p.getByText(/· Seen/).waitFor();
    assert.deepEqual(chatReads, [], 'the panel learned it from the stream, not by asking');
    await shot(page, '1280-seen');
    await page.setViewportSize({ width: 375, height: 740 });
    await shot(page, '375-seen');
    await api('POST', `/support/chats/${chat.id}/end`, {});
    await p.getByText('This chat has ended.').waitFor();
    await context.close();
  });
});
