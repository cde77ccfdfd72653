/**
 * The website chat widget in a real browser: a real `parley serve` (SQLite, SMTP to a real sink),
 * the widget built by scripts/build-widget.ts, and plain HTML pages served from other local
 * origins that embed it with one script tag, driven in the system Chromium by playwright-core.
 * A visitor starts a chat, an operator (through the API and the stream) picks it up and answers,
 * the visitor sees it live, reloads and continues; the operator ends it and the transcript
 * reaches the SMTP sink. A page on an origin that is not allowed gets no widget, and the frame
 * is refused there; with nobody available the offline form leaves a message. Screenshots of the
 * widget at 375 and 1280 px go to $WIDGET_SHOTS (default test-results/).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWidget, checkBudget } from '../../scripts/build-widget.ts';
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
import { type SmtpSink, startSmtpSink } from '../support/smtp.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

const SHOTS = process.env.WIDGET_SHOTS ?? join(ROOT, 'test-results');

/** The shop's own CSS, hostile on purpose: the widget must look the same on it. */
const SHOP_STYLE =
  'body{font-family:Georgia,serif;margin:0;padding:32px;background:#fdf6e3}button{all:unset}iframe{border:5px dashed red!important}h1{color:#333}';

describe('the website chat widget', { skip: noChromium, timeout: 120_000 }, () => {
  let parley: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let smtp: SmtpSink;
  let shop: Site;
  let elsewhere: Site;
  let framed: Site;
  let ada: string;
  let widget: { id: string; public_key: string };

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiJson<T>(server!, ada, method, path, body);

  const panel = widgetPanel;
  const launcher = widgetLauncher;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `widget-${name}.png`) });

  before(async () => {
    await buildWidget();
    const sizes = checkBudget();
    process.stdout.write(
      `# widget sizes gzipped: loader ${sizes['loader.js']} B, panel ${sizes['panel.js']} B\n`,
    );
    await mkdir(SHOTS, { recursive: true });
    smtp = await startSmtpSink();
    parley = await startConsoleServer('widget', {
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Acme support <support@acme.test>' },
    });
    server = parley.server;
    ada = parley.token;
    // The shop is on localhost, Parley on 127.0.0.1: another site, as on the web. The widget is
    // made below (its allowed origin is the shop's), so the pages read its key when served.
    const snippet = (parley: string) => widgetSnippet(widget.public_key)(parley);
    shop = await serveSite('localhost', snippet, server.url, SHOP_STYLE);
    elsewhere = await serveSite('localhost', snippet, server.url, SHOP_STYLE);
    framed = await serveSite(
      'localhost',
      (parley) =>
        `<iframe title="direct" src="${parley}/widget/frame?key=${widget.public_key}" width="380" height="500"></iframe>`,
      server.url,
      SHOP_STYLE,
    );
    const dept = await api<{ id: string }>('POST', '/departments', { name: 'Sales' });
    widget = await api('POST', '/widgets', {
      name: 'Acme',
      allowed_origins: [shop.url],
      department_ids: [dept.id],
      colour: '#0f766e',
      greeting: 'Hi! Ask us anything about your order.',
      prechat: { name: 'required', email: 'optional', question: 'required' },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await parley?.close();
    for (const s of [shop, elsewhere, framed]) s?.server.close();
    await smtp?.close();
  });

  test('a visitor chats live with an operator, reloads and continues, and gets the transcript', async () => {
    await api('PUT', '/support/availability', { status: 'available' });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${shop.url}/products/teapot`);
    await launcher(page).click();
    const p = panel(page);
    await p.getByText('Hi! Ask us anything about your order.').waitFor();
    await shot(page, '1280-prechat');
    await p.getByLabel('Name').fill('Vera Visitor');
    await p.getByLabel('Email (optional)').fill('vera@example.com');
    await p.getByLabel('How can we help?').fill('Where is my <b>teapot</b>?');
    await p.getByRole('button', { name: 'Start chat' }).click();
    await p.getByText('Waiting for an operator…').waitFor();
    // Visitor text is text: the tags show as typed.
    await p.getByText('Where is my <b>teapot</b>?').waitFor();

    // The operator: the chat is in the queue, named after the visitor, with the page it began on.
    const queue = await api<{ items: { id: string; visitor: { name: string } }[] }>('GET', '/support/queue');
    const chat = queue.items.find((c) => c.visitor.name === 'Vera Visitor');
    assert.ok(chat, 'the chat waits in the queue');
    const panelInfo = await api<{ page_url: string; title: string }>(
      'GET',
      `/support/chats/${chat.id}/visitor`,
    );
    assert.equal(panelInfo.page_url, `${shop.url}/products/teapot`);
    assert.equal(panelInfo.title, 'Vera Visitor');
    await api('POST', `/support/chats/${chat.id}/pickup`, {});
    await p.getByRole('heading', { name: 'Ada Lovelace' }).or(p.locator('h1')).first().waitFor();
    const stream: StreamClient = await connectStream(server!.url, { token: ada });
    await stream.next((f) => f.type === 'ready');
    stream.send({ type: 'typing', conversation_id: chat.id });
    await p.getByText(/is typing…/).waitFor();
    await api('POST', `/conversations/${chat.id}/messages`, { text: 'It ships <i>tomorrow</i>!' });
    await p.getByText('It ships <i>tomorrow</i>!').waitFor();
    const operatorName = await p.locator('header h1').textContent();
    assert.notEqual(operatorName, 'Acme', `the header names the operator (${operatorName})`);
    await api('POST', `/conversations/${chat.id}/read`, {});
    await p.getByPlaceholder('Write a message…').fill('Great, thanks');
    await p.getByPlaceholder('Write a message…').press('Enter');
    await p.getByText('Great, thanks').waitFor();
    await shot(page, '1280-chat');

    // A reload continues the same chat (the credential is in the iframe's storage, not in a URL).
    await page.reload();
    await panel(page).getByText('It ships <i>tomorrow</i>!').waitFor();
    assert.doesNotMatch(page.url(), /pv_/);
    for (const f of page.frames()) assert.doesNotMatch(f.url(), /pv_/, 'no credential in any URL');
    await panel(page).getByPlaceholder('Write a message…').fill('One more question');
    await panel(page).getByPlaceholder('Write a message…').press('Enter');
    await stream.next((f) => f.event === 'message.created' && f.data.message.text === 'One more question');
    // A new tab continues it too: no second chat.
    const tab = await context.newPage();
    await tab.goto(shop.url);
    await launcher(tab).click();
    await panel(tab).getByText('One more question').waitFor();
    await tab.close();
    const mine = await api<{ items: { id: string }[] }>('GET', '/support/queue');
    assert.equal(mine.items.length, 0, 'no duplicate chat waits');

    // Read state: the operator read the visitor's messages.
    await api('POST', `/conversations/${chat.id}/read`, {});
    await panel(page)
      .getByText(/· Seen/)
      .waitFor({ timeout: 8000 });

    // The operator ends it: the visitor sees it live; the transcript reaches the SMTP sink.
    await api('POST', `/support/chats/${chat.id}/end`, {});
    await panel(page).getByText('This chat has ended.').waitFor();
    await panel(page).getByRole('button', { name: 'Start a new chat' }).waitFor();
    const mails = await smtp.waitFor(1, 20_000);
    const transcript = mails.find((m) => m.to.includes('vera@example.com'));
    assert.ok(transcript, 'the transcript arrived');
    assert.match(transcript.subject, /Transcript/);
    assert.match(transcript.text, /Vera Visitor: Where is my <b>teapot<\/b>\?/);
    assert.match(transcript.text, /It ships <i>tomorrow<\/i>!/);
    assert.match(transcript.text, /One more question/);
    await stream.close();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('phone-sized: the panel fills the screen', async () => {
    await api('PUT', '/support/availability', { status: 'available' });
    const context = await browser!.newContext({
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(shop.url);
    await shot(page, '375-closed');
    await launcher(page).click();
    const p = panel(page);
    await p.getByLabel('Name').fill('Pat Phone');
    await p.getByLabel('How can we help?').fill('Do you ship to Norway?');
    await p.getByRole('button', { name: 'Start chat' }).click();
    await p.getByText('Do you ship to Norway?').waitFor();
    const box = await page.locator('iframe[title^="Chat with"]').boundingBox();
    assert.ok(box && box.width >= 370 && box.height >= 700, `full screen: ${JSON.stringify(box)}`);
    await shot(page, '375-chat');
    await p.getByRole('button', { name: 'End chat' }).click();
    await p.getByRole('button', { name: 'End now?' }).click();
    await p.getByText('This chat has ended.').waitFor();
    await context.close();
  });

  test('nobody available: the offline form leaves a message and the visitor gets a mail', async () => {
    await api('PUT', '/support/availability', { status: 'away' });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(shop.url);
    await launcher(page).click();
    const p = panel(page);
    await p.getByRole('form', { name: 'Leave a message' }).waitFor();
    await shot(page, '1280-offline');
    await p.getByLabel('Name').fill('Olive Offline');
    await p.getByLabel('Email').fill('olive@example.com');
    await p.getByLabel('Message', { exact: true }).fill('Please call me about a bulk order.');
    await p.getByRole('button', { name: 'Send message' }).click();
    await p.getByText("Thanks! We'll reply to olive@example.com.").waitFor();
    const deadline = Date.now() + 20_000;
    while (!smtp.mails.some((m) => m.to.includes('olive@example.com')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const mail = smtp.mails.find((m) => m.to.includes('olive@example.com'));
    assert.ok(mail, 'the visitor got a mail');
    assert.match(mail.text, /bulk order/);
    await context.close();
  });

  test('a page on an origin that is not allowed gets no widget, and the frame is refused there', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => warnings.push(m.text()));
    await page.goto(elsewhere.url);
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('#parley-widget-host').count(), 0, 'no launcher');
    assert.ok(
      warnings.some((w) => /Parley widget not shown/.test(w)),
      warnings.join('\n'),
    );
    const direct = await context.newPage();
    await direct.goto(framed.url);
    await direct.waitForTimeout(1500);
    const frame = direct.frames().find((f) => f !== direct.mainFrame());
    assert.ok(frame);
    assert.equal(await frame.locator('#parley-widget').count(), 0, 'the frame did not load on this origin');
    await context.close();
  });
});
