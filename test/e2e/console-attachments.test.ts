/**
 * Attachments in the web console, in a real browser (as console-search.test.ts): Ada attaches an
 * image and a text file with the 📎 button, watches them upload, sends them, and sees the
 * image's preview inline (loaded through a signed link) and the file as name, size and link.
 * Screenshots go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import {
  type ConsoleServer,
  launchChromium,
  noChromium,
  signInToConsole,
  startConsoleServer,
} from '../support/browser.ts';
import { ROOT, type RunningServer } from '../support/server.ts';

const SHOTS = join(ROOT, 'test-results', 'screenshots');

describe('attachments in the web console', { skip: noChromium, timeout: 240_000 }, () => {
  let served: ConsoleServer | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let dir = '';
  let token = '';

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    served = await startConsoleServer('console-attachments', { env: { STORAGE_URL: '' }, timeoutMs: 60_000 });
    ({ server, dir, token } = served);
    await writeFile(
      join(dir, 'sunset.png'),
      await sharp({ create: { width: 800, height: 400, channels: 3, background: '#e07020' } })
        .png()
        .toBuffer(),
    );
    await writeFile(join(dir, 'minutes.txt'), 'Minutes of the launch meeting\n');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('attach an image and a file: progress, then an inline preview and a download link', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await signInToConsole(page, server!.url, token);
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
