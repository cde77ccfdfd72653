import { iso, optIso, presentAttachmentRef } from '../../domain/presenters.ts';
import { attachmentRef } from '../../services/attachments.ts';
import type { AttachmentRow } from '../../store/repos/attachments.ts';

/** An upload or attachment, with where it is attached (null until a message carries it). */
export function presentAttachment(r: AttachmentRow) {
  return {
    ...presentAttachmentRef(attachmentRef(r)),
    conversation_id: r.conversation_id,
    message_id: r.message_id,
    created_at: iso(r.created_at),
    attached_at: optIso(r.attached_at),
  };
}

/**
 * Content-Disposition for a download: `inline` only for raster images Parley previews, else
 * `attachment`; the name as an ASCII fallback (anything else `_`) and RFC 5987 UTF-8.
 */
export function contentDisposition(inline: boolean, name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
