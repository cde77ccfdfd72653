import { createHmac, timingSafeEqual } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import type { AppContext } from '../context.ts';
import { AppError, ForbiddenError, NotFoundError, TooLargeError, ValidationError } from '../domain/errors.ts';
import type { AttachmentRef } from '../domain/model.ts';
import { canSend } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import {
  type AttachmentRow,
  attachUploads,
  deleteAttachmentRow,
  findAttachment,
  findDoomedAttachments,
  insertAttachment,
  orgStorageBytes,
} from '../store/repos/attachments.ts';
import { findMessage } from '../store/repos/messages.ts';
import { findSupportChat } from '../store/repos/support.ts';
import { loadConversation, loadConversationForRead } from './access.ts';
import { checkQuota, lockOrgForQuota } from './quotas.ts';
import { inTransaction } from './tx.ts';

/** An upload never attached to a message is removed after this long. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60_000;
/** How long a signed download link works. */
export const LINK_TTL_MS = 5 * 60_000;
/** At most this many attachments on one message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Previews fit in this many pixels each way. */
const PREVIEW_SIZE = 480;

/** Raster images Parley previews and serves inline (never SVG: it can carry script). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);
/**
 * What may be uploaded, by sniffed type: raster images, PDF, archives, office documents, audio,
 * video, and plain UTF-8 text (which has no magic number; HTML and SVG are text and are served
 * as text/plain downloads). Executables and anything unrecognised are refused.
 */
function allowedType(mime: string): boolean {
  return (
    INLINE_IMAGES.has(mime) ||
    mime === 'image/bmp' ||
    mime === 'image/tiff' ||
    mime === 'image/heic' ||
    mime === 'application/pdf' ||
    mime === 'application/zip' ||
    mime === 'application/gzip' ||
    mime === 'application/x-7z-compressed' ||
    mime === 'application/x-tar' ||
    mime.startsWith('application/vnd.openxmlformats-officedocument.') ||
    mime.startsWith('application/vnd.oasis.opendocument.') ||
    mime === 'application/vnd.ms-excel' ||
    mime === 'application/msword' ||
    mime === 'application/x-cfb' ||
    mime === 'application/rtf' ||
    mime.startsWith('audio/') ||
    mime.startsWith('video/') ||
    mime === 'text/plain'
  );
}

/** The type of the bytes: file-type's magic numbers, else text/plain for valid UTF-8 without NUL. */
export async function sniffType(bytes: Uint8Array): Promise<string | undefined> {
  const found = await fileTypeFromBuffer(bytes);
  if (found) return found.mime;
  if (bytes.includes(0)) return undefined;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'text/plain';
  } catch {
    return undefined;
  }
}

/**
 * A file name as given by the client: 1-255 characters, no path separators (`/`, `\`), no
 * NUL or other control characters, not `.` or `..`. It is only ever shown and put in
 * Content-Disposition (encoded), never used as a path.
 */
export function checkFileName(name: string | undefined): string {
  const bad = (problem: string) => ValidationError.field('query.name', problem, 'invalid_file_name');
  if (name === undefined || name.length === 0) throw bad('is required (the file name)');
  if (name.length > 255) throw bad('must be at most 255 characters');
  if (/[/\\]/.test(name)) throw bad('must not contain path separators (/ or \\)');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('must not contain NUL or control characters');
  if (name === '.' || name === '..' || name.trim() === '') throw bad('is not a file name');
  return name.normalize('NFC');
}

/** Originals stored without their metadata (EXIF with GPS position and camera, XMP, comments). */
const STRIPPED_ORIGINALS = new Set(['image/jpeg', 'image/png', 'image/webp']);

/**
 * The image re-encoded by sharp in its own format, which writes no EXIF, XMP or comments unless
 * asked: a phone photo's GPS position does not reach whoever downloads it. The EXIF orientation
 * is applied to the pixels first (`rotate()`), so the photo still shows upright without the tag;
 * the ICC colour profile is kept (colours, nothing about the person). PNG is lossless; JPEG and
 * WebP are encoded again at quality 92 (docs/api.md "Attachments"); animated WebP keeps its
 * frames (not rotated: animations carry no orientation).
 */
async function stripMetadata(input: Uint8Array, type: string, pages: number): Promise<Uint8Array> {
  const animated = type === 'image/webp' && pages > 1;
  let image = sharp(input, { limitInputPixels: 100_000_000, animated }).keepIccProfile();
  if (!animated) image = image.rotate();
  if (type === 'image/jpeg') image = image.jpeg({ quality: 92 });
  else if (type === 'image/png') image = image.png();
  else image = image.webp({ quality: 92 });
  return image.toBuffer();
}

const storageKey = (orgId: string, id: string) => `${orgId}/${id}`;
const previewKey = (orgId: string, id: string) => `${orgId}/${id}.preview`;

export interface Upload {
  conversationId: string;
  name: string | undefined;
  bytes: Uint8Array;
}

/**
 * Stores an upload for a conversation the caller may post in (`conversation_not_found` 404,
 * `not_a_member`/`chat_closed` 403), within the per-file limit (`file_too_large` 413) and the
 * org's storage quota (`quota_exceeded` 409); empty files are `empty_file` (400), types outside
 * the allowed list `unsupported_file_type` (415), images that do not decode `invalid_image`
 * (400). Images get a WebP preview (sharp; metadata stripped, at most 480 px); JPEG, PNG and
 * WebP originals are stored without their metadata (stripMetadata), `size` is what is stored. The row is
 * written first (with the quota check, in one transaction), then the bytes: a crash between
 * leaves a row the day-old sweep removes, never a file without a row.
 */
export async function uploadAttachment(ctx: AppContext, p: Principal, u: Upload): Promise<AttachmentRow> {
  // Who may not post learns nothing else about the request (not even that the name is bad).
  const { conversation, me } = await loadConversation(ctx.db, p, u.conversationId);
  const supportState =
    conversation.kind === 'support'
      ? ((await findSupportChat(ctx.db, p.orgId, conversation.id))?.state ?? null)
      : null;
  authorize(canSend(me, supportState));
  const name = checkFileName(u.name);
  if (u.bytes.byteLength === 0)
    throw ValidationError.field('body', 'is empty: an attachment needs at least one byte', 'empty_file');
  if (u.bytes.byteLength > ctx.config.attachmentMaxBytes)
    throw new TooLargeError('file_too_large', `A file may be at most ${ctx.config.attachmentMaxBytes} bytes`);
  const type = await sniffType(u.bytes);
  if (!type || !allowedType(type))
    throw new AppError(
      'unsupported_media_type',
      'unsupported_file_type',
      `This kind of file cannot be attached${type ? ` (${type})` : ''}: images, PDF, archives, office documents, audio, video and plain text can`,
      { detected: type ?? null },
    );
  let preview: { bytes: Uint8Array; width: number; height: number } | null = null;
  let bytes = u.bytes;
  if (INLINE_IMAGES.has(type)) {
    try {
      const image = sharp(u.bytes, { limitInputPixels: 100_000_000 });
      const meta = await image.metadata();
      if (STRIPPED_ORIGINALS.has(type)) bytes = await stripMetadata(u.bytes, type, meta.pages ?? 1);
      // sharp writes no metadata (EXIF, GPS, ICC comments) unless asked to: the preview has none.
      const out = await image
        .rotate()
        .resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer();
      const oriented = (meta.orientation ?? 1) >= 5;
      preview = {
        bytes: out,
        width: (oriented ? meta.height : meta.width) ?? 0,
        height: (oriented ? meta.width : meta.height) ?? 0,
      };
    } catch {
      throw ValidationError.field('body', 'is not an image that can be decoded', 'invalid_image');
    }
  }
  const id = ctx.ids.next();
  const row: AttachmentRow = {
    id,
    org_id: p.orgId,
    uploader_id: p.actor.id,
    conversation_id: conversation.id,
    message_id: null,
    name,
    content_type: type,
    size: bytes.byteLength,
    width: preview?.width ?? null,
    height: preview?.height ?? null,
    storage_key: storageKey(p.orgId, id),
    preview_key: preview ? previewKey(p.orgId, id) : null,
    preview_size: preview?.bytes.byteLength ?? null,
    created_at: ctx.clock.now(),
    attached_at: null,
  };
  const adding = row.size + (row.preview_size ?? 0);
  await inTransaction(ctx, async (tx) => {
    await lockOrgForQuota(ctx, tx.db, p.orgId);
    const used = await orgStorageBytes(tx.db, p.orgId);
    checkQuota(
      'storage_bytes',
      ctx.config.quotas.storageBytes,
      used,
      adding,
      'The org stores too many attachment bytes',
    );
    await insertAttachment(tx.db, row);
  });
  try {
    await ctx.blobs.put(row.storage_key, bytes, type);
    if (preview && row.preview_key) await ctx.blobs.put(row.preview_key, preview.bytes, 'image/webp');
  } catch (err) {
    await removeAttachment(ctx, row).catch(() => undefined);
    throw err;
  }
  return row;
}

/** What a message carries of an attachment. */
export function attachmentRef(r: AttachmentRow): AttachmentRef {
  return {
    id: r.id,
    name: r.name,
    contentType: r.content_type,
    size: r.size,
    width: r.width,
    height: r.height,
    preview: r.preview_key !== null,
  };
}

/**
 * In a send's transaction: attaches the caller's own unattached uploads of this conversation to
 * the new message. Any id that is not such an upload (another's, another conversation's,
 * already attached, unknown) is `attachment_not_found` (404), and the send changes nothing.
 */
export async function attachToMessage(
  db: AppContext['db'],
  a: {
    orgId: string;
    uploaderId: string;
    conversationId: string;
    messageId: string;
    ids: readonly string[];
    now: number;
  },
): Promise<AttachmentRef[]> {
  const ids = [...new Set(a.ids)];
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE)
    throw ValidationError.field(
      'body.attachments',
      `must name at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`,
    );
  const rows = await attachUploads(db, { ...a, ids });
  if (rows.length !== ids.length) {
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    throw new AppError(
      'not_found',
      'attachment_not_found',
      `Attachment ${missing.join(', ')} is not an unattached upload of yours in this conversation`,
      { ids: missing },
    );
  }
  return rows.map(attachmentRef);
}

/**
 * An attachment the caller may see: one attached to a live message of a conversation whose
 * history the caller may read (a current member, or staff and the visitor of a support chat:
 * the same rule as the messages, services/access.ts loadConversationForRead), or the caller's
 * own upload not yet attached. Anything else is
 * `attachment_not_found` (404), the same answer as an unknown id.
 */
export async function getAttachment(ctx: AppContext, p: Principal, id: string): Promise<AttachmentRow> {
  const notFound = () => new NotFoundError('attachment_not_found', `Attachment ${id} not found`);
  const row = await findAttachment(ctx.db, p.orgId, id);
  if (!row) throw notFound();
  if (row.message_id === null) {
    if (row.uploader_id !== p.actor.id) throw notFound();
    return row;
  }
  if (!row.conversation_id) throw notFound();
  try {
    await loadConversationForRead(ctx.db, p, row.conversation_id);
  } catch {
    throw notFound();
  }
  const m = await findMessage(ctx.db, row.conversation_id, row.message_id);
  if (!m || m.deletedAt !== null) throw notFound();
  return row;
}

export type Variant = 'original' | 'preview';

/** The bytes of an attachment (or its preview) the caller may see, with how to serve them. */
export async function readAttachment(
  ctx: AppContext,
  row: AttachmentRow,
  variant: Variant,
): Promise<{ bytes: Uint8Array; contentType: string; inline: boolean; name: string }> {
  const key = variant === 'preview' ? row.preview_key : row.storage_key;
  if (!key) throw new NotFoundError('preview_not_found', 'This attachment has no preview (not an image)');
  const bytes = await ctx.blobs.get(key);
  if (!bytes) throw new NotFoundError('attachment_not_found', `Attachment ${row.id} not found`);
  if (variant === 'preview')
    return { bytes, contentType: 'image/webp', inline: true, name: `${row.name}.preview.webp` };
  return {
    bytes,
    contentType: row.content_type,
    inline: INLINE_IMAGES.has(row.content_type),
    name: row.name,
  };
}

/* Signed links: GET /v1/attachments/{id}/link hands out a URL that works without the bearer
 * token for LINK_TTL_MS, so an <img> tag (which cannot send an Authorization header) can load
 * a preview. The caller's access is checked when the link is made. */

function signature(ctx: AppContext, id: string, variant: Variant, expires: number): string {
  return createHmac('sha256', ctx.config.attachmentLinkSecret)
    .update(`attachment:${id}:${variant}:${expires}`)
    .digest('base64url');
}

export function signLink(
  ctx: AppContext,
  row: AttachmentRow,
  variant: Variant,
): { url: string; expiresAt: number } {
  const expiresAt = ctx.clock.now() + LINK_TTL_MS;
  const sig = signature(ctx, row.id, variant, expiresAt);
  return {
    url: `/files/${row.id}?variant=${variant}&expires=${expiresAt}&signature=${sig}`,
    expiresAt,
  };
}

/**
 * The attachment a signed link names, when its signature is right and it has not expired
 * (`invalid_link` 403 otherwise). It must still exist and be attached to a live message (or be
 * unattached): a deleted message's links stop working at once.
 */
export async function resolveLink(
  ctx: AppContext,
  id: string,
  variant: Variant,
  expires: number,
  sig: string,
): Promise<AttachmentRow> {
  const want = Buffer.from(signature(ctx, id, variant, expires));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    throw new ForbiddenError('invalid_link', 'This download link is not valid');
  if (expires < ctx.clock.now()) throw new ForbiddenError('link_expired', 'This download link has expired');
  const notFound = new NotFoundError('attachment_not_found', `Attachment ${id} not found`);
  const full = await findAttachment(ctx.db, null, id);
  if (!full) throw notFound;
  if (full.message_id !== null) {
    const m = full.conversation_id
      ? await findMessage(ctx.db, full.conversation_id, full.message_id)
      : undefined;
    if (!m || m.deletedAt !== null) throw notFound;
  }
  return full;
}

/** Removes an attachment's bytes (file and preview), then its row. */
async function removeAttachment(ctx: AppContext, r: AttachmentRow): Promise<void> {
  await ctx.blobs.delete(r.storage_key);
  if (r.preview_key) await ctx.blobs.delete(r.preview_key);
  await deleteAttachmentRow(ctx.db, r.id);
}

/**
 * Removes from storage, then from the table, every attachment that must go: uploads never
 * attached within a day, and the attachments of messages deleted for everyone, purged
 * (recycle bin, retention, deletion jobs) or of deleted orgs. Runs periodically and after each
 * delete and purge; safe on several nodes at once (deleting a gone key is no error). Returns
 * how many it removed.
 */
export async function sweepAttachments(ctx: AppContext): Promise<number> {
  let total = 0;
  for (;;) {
    const doomed = await findDoomedAttachments(ctx.db, ctx.clock.now() - UNATTACHED_TTL_MS, 200);
    if (doomed.length === 0) return total;
    for (const r of doomed) await removeAttachment(ctx, r);
    total += doomed.length;
  }
}
