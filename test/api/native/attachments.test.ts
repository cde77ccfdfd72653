import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { sweepAttachments } from '../../../src/services/attachments.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import {
  makeDepartment,
  makeOrg,
  orgWithGroup,
  type Person,
  startWaitingChat,
} from '../../support/factories.ts';
import { startS3, type TestS3 } from '../../support/s3.ts';

/**
 * Attachments, on both storage back ends: files under a folder (the default) and S3 through the
 * AWS SDK against s3rver started here. Every bad input is a 4xx in the native shape and
 * changes nothing (no row, no stored object).
 */

const MAX = 300_000;
const QUOTA = 1_000_000;

/** A PNG with an EXIF comment that must not reach the preview. */
async function png(marker: string, size = 64): Promise<Buffer> {
  return sharp({ create: { width: size, height: size / 2, channels: 3, background: '#3366ff' } })
    .png()
    .withExif({ IFD0: { ImageDescription: marker } })
    .toBuffer();
}

async function upload(
  t: TestApp,
  who: Person | string,
  conversation: string,
  name: string,
  body: Buffer | string,
) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/conversations/${conversation}/attachments?name=${encodeURIComponent(name)}`,
    headers: {
      authorization: `Bearer ${typeof who === 'string' ? who : who.token}`,
      'content-type': 'application/octet-stream',
    },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as any, raw: res.body };
}

async function download(t: TestApp, url: string, token: string | null) {
  return t.app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

for (const backend of ['file', 's3'] as const) {
  describe(`attachments (${backend} storage)`, () => {
    let t: TestApp;
    let s3: TestS3 | undefined;
    before(async () => {
      s3 = backend === 's3' ? await startS3() : undefined;
      t = await buildTestApp({
        ATTACHMENT_MAX_BYTES: String(MAX),
        QUOTA_STORAGE_BYTES: String(QUOTA),
        ...(s3 ? { STORAGE_URL: s3.url } : {}),
      });
      assert.equal(t.ctx.blobs.kind, backend);
    });
    after(async () => {
      await t.close();
      await s3?.close();
    });

    test('upload, send with attachments, history and downloads; previews carry no metadata', async () => {
      const { o, bob, id } = await orgWithGroup(t, ['Bob'], ['Eve']);
      const marker = `EXIF${randomBytes(6).toString('hex')}`;
      const img = await upload(t, bob, id, 'holiday photo.png', await png(marker, 1200));
      assert.equal(img.status, 201, img.raw);
      assert.equal(img.body.content_type, 'image/png');
      assert.equal(img.body.width, 1200);
      assert.equal(img.body.height, 600);
      assert.equal(img.body.message_id, null);
      assert.ok(img.body.preview_url);
      const doc = await upload(t, bob, id, 'notes.txt', 'plain words\n');
      assert.equal(doc.status, 201, doc.raw);
      assert.equal(doc.body.content_type, 'text/plain');
      assert.equal(doc.body.preview_url, null);
      assert.equal((await t.ctx.blobs.list()).length, 3, 'file, preview, file');

      const sent = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, {
        text: 'see attached',
        attachments: [img.body.id, doc.body.id],
      });
      assert.equal(sent.status, 201, sent.raw);
      assert.deepEqual(
        sent.body.attachments.map((a: any) => [a.id, a.name, a.size]),
        [
          [img.body.id, 'holiday photo.png', img.body.size],
          [doc.body.id, 'notes.txt', 12],
        ],
      );
      const history = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages`);
      assert.equal(history.body.items[0].attachments.length, 2);
      assert.deepEqual(history.body.items[0].attachments, sent.body.attachments);
      // The stream's (and webhooks') message.created carries them too: its stored payload.
      const event = await t.ctx.db
        .selectFrom('event')
        .select('payload')
        .where('message_id', '=', sent.body.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.payload).message.attachments, sent.body.attachments);
      const plain = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
        text: 'x',
      });
      assert.deepEqual(plain.body.attachments, []);

      // Images inline, everything else as a download; nosniff always.
      const original = await download(t, `/v1/attachments/${img.body.id}/content`, o.owner.token);
      assert.equal(original.statusCode, 200);
      assert.equal(original.headers['content-type'], 'image/png');
      assert.match(String(original.headers['content-disposition']), /^inline; filename="holiday photo.png"/);
      assert.equal(original.headers['x-content-type-options'], 'nosniff');
      assert.equal(original.rawPayload.length, img.body.size);
      const preview = await download(t, img.body.preview_url, o.owner.token);
      assert.equal(preview.statusCode, 200);
      assert.equal(preview.headers['content-type'], 'image/webp');
      assert.ok(!preview.rawPayload.includes(marker), 'the preview has no EXIF');
      const meta = await sharp(preview.rawPayload).metadata();
      assert.equal(meta.width, 480);
      assert.equal(meta.exif, undefined);
      const text = await download(t, `/v1/attachments/${doc.body.id}/content`, o.owner.token);
      assert.equal(text.statusCode, 200);
      assert.equal(text.body, 'plain words\n');
      assert.match(String(text.headers['content-disposition']), /^attachment; filename="notes.txt"/);
      assert.equal(text.headers['x-content-type-options'], 'nosniff');

      // Who may not see the message may not download: the same 404 as an unknown id.
      const eve = (await orgWithGroup(t)).o.owner; // another org
      for (const who of [eve.token]) {
        const res = await download(t, `/v1/attachments/${img.body.id}/content`, who);
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().error.code, 'attachment_not_found');
      }
      assert.equal((await download(t, `/v1/attachments/${img.body.id}/content`, null)).statusCode, 401);
      const forged = await download(
        t,
        `/files/${img.body.id}?expires=${t.clock.now() + 1000}&signature=abc`,
        null,
      );
      assert.equal(forged.statusCode, 403);
      assert.equal((await download(t, `/files/${img.body.id}`, null)).statusCode, 400);

      // Signed links: work without the token for 5 minutes, not after, not when tampered with.
      const link = await call(
        t.app,
        o.owner.token,
        'GET',
        `/v1/attachments/${img.body.id}/link?variant=preview`,
      );
      assert.equal(link.status, 200, link.raw);
      const viaLink = await download(t, link.body.url, null);
      assert.equal(viaLink.statusCode, 200);
      assert.equal(viaLink.headers['content-type'], 'image/webp');
      const tampered = await download(t, link.body.url.replace('variant=preview', 'variant=original'), null);
      assert.equal(tampered.statusCode, 403);
      assert.equal(tampered.json().error.code, 'invalid_link');
      t.clock.advance(6 * 60_000);
      const expired = await download(t, link.body.url, null);
      assert.equal(expired.statusCode, 403);
      assert.equal(expired.json().error.code, 'link_expired');

      // Search by has_attachment.
      const search = async (has: boolean) =>
        (
          await call(t.app, bob.token, 'GET', `/v1/search/messages?q=see&has_attachment=${has}`)
        ).body.items.map((i: any) => i.message.id);
      assert.deepEqual(await search(true), [sent.body.id]);
      assert.deepEqual(await search(false), []);

      // Delete for everyone: the message shows none, and the bytes leave storage at once.
      const before = (await t.ctx.blobs.list()).length;
      const del = await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/messages/${sent.body.id}`);
      assert.equal(del.status, 200, del.raw);
      assert.deepEqual(del.body.attachments, []);
      assert.equal((await t.ctx.blobs.list()).length, before - 3);
      assert.equal(
        (await download(t, `/v1/attachments/${doc.body.id}/content`, o.owner.token)).statusCode,
        404,
      );
      assert.deepEqual(await search(true), []);
    });

    test('a JPEG original is stored without EXIF (GPS position included), upright, the same picture', async () => {
      const { o, bob, id } = await orgWithGroup(t);
      const gps = `GPS${randomBytes(6).toString('hex')}`;
      const desc = `DESC${randomBytes(6).toString('hex')}`;
      // A phone photo: 40x20 pixels, left half red, stored sideways (EXIF orientation 6: shown
      // rotated 90° clockwise), with a GPS position and a description.
      const photo = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#0000ff' } })
        .composite([
          {
            input: { create: { width: 20, height: 20, channels: 3, background: '#ff0000' } },
            left: 0,
            top: 0,
          },
        ])
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .withExifMerge({
          IFD0: { ImageDescription: desc },
          IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100', GPSMapDatum: gps },
        })
        .toBuffer();
      const input = await sharp(photo).metadata();
      assert.equal(input.orientation, 6);
      assert.ok(photo.includes(gps) && photo.includes(desc), 'the upload carries the GPS tag');
      const up = await upload(t, bob, id, 'phone.jpg', photo);
      assert.equal(up.status, 201, up.raw);
      assert.equal(up.body.content_type, 'image/jpeg');
      assert.deepEqual([up.body.width, up.body.height], [20, 40], 'as shown: upright');
      const res = await download(t, `/v1/attachments/${up.body.id}/content`, bob.token);
      assert.equal(res.statusCode, 200);
      const got = res.rawPayload;
      assert.equal(got.length, up.body.size, 'size is what is stored');
      assert.ok(!got.includes(gps), 'no GPS tag');
      assert.ok(!got.includes(desc), 'no description');
      const meta = await sharp(got).metadata();
      assert.equal(meta.exif, undefined);
      assert.equal(meta.xmp, undefined);
      assert.equal(meta.orientation, undefined);
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 20, 40]);
      // The orientation is in the pixels: the red half is now on top.
      const { data } = await sharp(got).raw().toBuffer({ resolveWithObject: true });
      const pixel = (x: number, y: number) => [...data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)];
      const [r1, , b1] = pixel(10, 5);
      const [r2, , b2] = pixel(10, 35);
      assert.ok(r1! > 200 && b1! < 60, `top is red: ${pixel(10, 5)}`);
      assert.ok(r2! < 60 && b2! > 200, `bottom is blue: ${pixel(10, 35)}`);
      // The stored object is the stripped one (not only the download).
      const stored = await t.ctx.blobs.get(`${o.org.id}/${up.body.id}`);
      assert.ok(stored && !Buffer.from(stored).includes(gps));
    });

    test('PNG and WebP originals lose their EXIF too', async () => {
      const { bob, id } = await orgWithGroup(t);
      for (const format of ['png', 'webp'] as const) {
        const marker = `EXIF${randomBytes(6).toString('hex')}`;
        const bytes = await sharp({ create: { width: 30, height: 10, channels: 3, background: '#336699' } })
          [format]()
          .withExif({ IFD0: { ImageDescription: marker } })
          .toBuffer();
        assert.ok(bytes.includes(marker));
        const up = await upload(t, bob, id, `x.${format}`, bytes);
        assert.equal(up.status, 201, up.raw);
        const res = await download(t, `/v1/attachments/${up.body.id}/content`, bob.token);
        assert.equal(res.statusCode, 200);
        assert.ok(!res.rawPayload.includes(marker), format);
        const meta = await sharp(res.rawPayload).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height, meta.exif], [format, 30, 10, undefined]);
      }
    });

    test('an upload never attached is removed after a day', async () => {
      const { bob, id } = await orgWithGroup(t);
      const up = await upload(t, bob, id, 'a.txt', 'left behind');
      assert.equal(up.status, 201);
      const has = async () => (await t.ctx.blobs.list()).some((k) => k.endsWith(`/${up.body.id}`));
      assert.ok(await has());
      await sweepAttachments(t.ctx);
      assert.ok(await has(), 'not yet a day old');
      t.clock.advance(25 * 60 * 60_000);
      await sweepAttachments(t.ctx);
      assert.ok(!(await has()));
      const res = await call(t.app, bob.token, 'GET', `/v1/attachments/${up.body.id}`);
      assert.equal(res.status, 404);
    });

    test('bad input: a clear 4xx in the native shape, nothing stored', async () => {
      const { o, bob, id, others } = await orgWithGroup(t, ['Bob'], ['Outsider']);
      const outsider = others[0]!;
      const stored = async () => (await t.ctx.blobs.list()).length;
      const rows = async () =>
        Number(
          (
            await t.ctx.db
              .selectFrom('attachment')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('org_id', '=', o.org.id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const n0 = await stored();
      const r0 = await rows();
      const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(200)]);
      const readOnly = await o.token(bob.actor, ['messages:read']);
      const cases: [string, ReturnType<typeof upload>, number, string][] = [
        ['oversized', upload(t, bob, id, 'big.txt', 'a'.repeat(MAX + 1)), 413, 'body_too_large'],
        ['empty', upload(t, bob, id, 'empty.txt', ''), 400, 'empty_file'],
        ['executable', upload(t, bob, id, 'x.bin', elf), 415, 'unsupported_file_type'],
        [
          'random bytes',
          upload(t, bob, id, 'x.bin', Buffer.concat([Buffer.from([0, 1]), randomBytes(64)])),
          415,
          'unsupported_file_type',
        ],
        [
          'broken png',
          upload(t, bob, id, 'x.png', Buffer.concat([(await png('x')).subarray(0, 40)])),
          400,
          'invalid_image',
        ],
        ['slash in name', upload(t, bob, id, '../etc/passwd', 'x'), 400, 'invalid_file_name'],
        ['backslash in name', upload(t, bob, id, '..\\x.txt', 'x'), 400, 'invalid_file_name'],
        ['NUL in name', upload(t, bob, id, 'a\u0000.txt', 'x'), 400, 'invalid_file_name'],
        ['control in name', upload(t, bob, id, 'a\u0007.txt', 'x'), 400, 'invalid_file_name'],
        ['dot dot', upload(t, bob, id, '..', 'x'), 400, 'invalid_file_name'],
        ['not a member', upload(t, outsider, id, 'a.txt', 'x'), 404, 'conversation_not_found'],
        ['no write scope', upload(t, readOnly, id, 'a.txt', 'x'), 403, 'insufficient_scope'],
        ['unknown conversation', upload(t, bob, '123456789', 'a.txt', 'x'), 404, 'conversation_not_found'],
      ];
      for (const [what, pending, status, code] of cases) {
        const res = await pending;
        assert.equal(res.status, status, `${what}: ${res.raw}`);
        assert.equal(res.body.error.code, code, what);
        assert.equal(typeof res.body.error.message, 'string');
      }
      const noName = await t.app.inject({
        method: 'POST',
        url: `/v1/conversations/${id}/attachments`,
        headers: { authorization: `Bearer ${bob.token}` },
        payload: 'x',
      });
      assert.equal(noName.statusCode, 400);
      assert.equal(await stored(), n0);
      assert.equal(await rows(), r0);

      // Attaching someone else's upload (or an unknown id) sends nothing.
      const owners = await upload(t, o.owner, id, 'mine.txt', 'the owner’s');
      assert.equal(owners.status, 201);
      const count = async () =>
        (await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages`)).body.items.length;
      const c0 = await count();
      for (const attachments of [[owners.body.id], ['999999999'], ['abc']]) {
        const res = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, {
          text: 'steal',
          attachments,
        });
        assert.ok(res.status === 404 || res.status === 400, res.raw);
        assert.ok(
          ['attachment_not_found', 'invalid_request', 'invalid_id'].includes(res.body.error.code),
          res.raw,
        );
      }
      assert.equal(await count(), c0);
      const mine = await call(t.app, o.owner.token, 'GET', `/v1/attachments/${owners.body.id}`);
      assert.equal(mine.body.message_id, null, 'still unattached');
      assert.equal((await call(t.app, bob.token, 'GET', `/v1/attachments/${owners.body.id}`)).status, 404);

      // SVG and HTML are text: served as text/plain downloads, never inline.
      for (const [name, body] of [
        ['x.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
        ['x.html', '<!doctype html><script>alert(1)</script>'],
      ] as const) {
        const up = await upload(t, bob, id, name, body);
        assert.equal(up.status, 201, up.raw);
        assert.notEqual(up.body.content_type, 'image/svg+xml');
        const res = await download(t, `/v1/attachments/${up.body.id}/content`, bob.token);
        assert.match(String(res.headers['content-disposition']), /^attachment;/);
        assert.ok(!String(res.headers['content-type']).includes('html'));
        assert.ok(!String(res.headers['content-type']).includes('svg'));
      }
    });

    test('the org storage quota', async () => {
      const { bob, id } = await orgWithGroup(t);
      const chunk = 'q'.repeat(MAX - 10);
      let refused: { status: number; body: any } | undefined;
      for (let i = 0; i < 5 && !refused; i++) {
        const res = await upload(t, bob, id, `q${i}.txt`, chunk);
        if (res.status !== 201) refused = res;
      }
      assert.ok(refused, 'the quota stopped an upload');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'quota_exceeded');
      assert.equal(refused.body.error.details.quota, 'storage_bytes');
    });

    test('a support chat: staff who may read it download its attachments; other members may not', async () => {
      const o = await makeOrg(t.ctx);
      const operator = await o.user('operator');
      const member = await o.user('member');
      const visitor = await o.visitor();
      const dept = await makeDepartment(t.ctx, o, 'Sales', [operator.actor]);
      const chat = await startWaitingChat(t.ctx, o, visitor.actor, dept);
      const file = await upload(t, visitor, chat.id, 'order.txt', 'order 1234\n');
      assert.equal(file.status, 201, file.raw);
      const sent = await call(t.app, visitor.token, 'POST', `/v1/conversations/${chat.id}/messages`, {
        text: 'my order',
        attachments: [file.body.id],
      });
      assert.equal(sent.status, 201, sent.raw);
      const url = `/v1/attachments/${file.body.id}/content`;
      // The operator has not picked the chat up (not a member) but may read it, so may download.
      assert.equal((await download(t, url, operator.token)).statusCode, 200);
      assert.equal((await download(t, url, visitor.token)).statusCode, 200);
      const refused = await download(t, url, member.token);
      assert.equal(refused.statusCode, 404);
      assert.equal(refused.json().error.code, 'attachment_not_found');
    });
  });
}
