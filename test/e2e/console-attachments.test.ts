/**
 * Attachments in the web console, in a real browser (as console-search.test.ts): Ada attaches an
 * image and a text file with the 📎 button, watches them upload, sends them, and sees the
 * image's preview inline (loaded through a signed link) and the file as name, size and link.
 * Screenshots go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { buildConsole } from '../../scripts/build-web.ts';
import { ROOT, type RunningServer, seedDemo, startServer } from '../support/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

describe('attachments in the web console', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let token = '';

  before(async () => {
    await buildConsole();
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'parley-console-attachments-'));
    const env = {
      ...process.env,
      DATABASE_URL: '',
      REDIS_URL: '',
      SQLITE_PATH: join(dir, 'parley.db'),
      STORAGE_URL: '',
    };
    token = await seedDemo(env);
    server = await startServer(env, 60_000);
    await writeFile(
      join(dir, 'sunset.png'),
      await sharp({ create: { width: 800, height: 400, channels: 3, background: '#e07020' } })
        .png()
        .toBuffer(),
    );
    await writeFile(join(dir, 'minutes.txt'), 'Minutes of the launch meeting\n');
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

  test('attach an image and a file: progress, then an inline preview and a download link', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(server!.url);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await page.getByRole('list', { name: 'Conversation list' }).getByText('Launch plan').first().click();
    await page.getByLabel('Message', { exact: true }).waitFor();

    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles([join(dir, 'sunset.png'), join(dir, 'minutes.txt')]);
    await page.getByLabel('Uploading sunset.png').waitFor();
    const send = page.getByRole('button', { name: 'Send files' });
    await page.waitForFunction(
      `(() => { const b = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Send files'); return b && !b.disabled; })()`,
    );
    await send.click();

    const list = page.getByRole('list', { name: 'Attachments' }).last();
    const img = list.getByRole('img', { name: 'sunset.png' });
    await img.waitFor();
    await page.waitForFunction(
      `(() => { const i = document.querySelector('.attachments img[alt="sunset.png"]'); return !!i && i.complete && i.naturalWidth > 0; })()`,
    );
    const src = (await img.getAttribute('src')) ?? '';
    assert.match(src, /^\/files\/\d+\?variant=preview&expires=\d+&signature=/, 'a signed preview link');
    assert.equal(
      await page.evaluate(`document.querySelector('.attachments img[alt="sunset.png"]').naturalWidth`),
      480,
      'the server-side preview',
    );
    const file = list.getByRole('link', { name: /minutes\.txt/ });
    assert.match((await file.textContent()) ?? '', /minutes\.txt \(30 B\)/);
    await page.screenshot({ path: join(SHOTS, 'attachments-1280px.png') });
    await context.close();
  });
});
