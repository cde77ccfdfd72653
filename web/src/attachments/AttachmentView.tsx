import { useEffect, useState } from 'react';
import { createApi, savedToken } from '../api.ts';

/** An attachment as a message carries it (GET /v1/conversations/{id}/messages). */
export interface AttachmentRef {
  id: string;
  name: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  url: string;
  preview_url: string | null;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A message's attachments: images as an inline preview (the server's WebP, loaded through a
 * 5-minute signed link since an <img> cannot send the bearer token), other files as name, size
 * and a download link (also signed, fetched when clicked).
 */
export function AttachmentView({ attachments }: { attachments: readonly AttachmentRef[] | undefined }) {
  if (!attachments || attachments.length === 0) return null;
  return (
    <ul className="attachments" aria-label="Attachments">
      {attachments.map((a) => (
        <li key={a.id}>{a.preview_url ? <ImagePreview a={a} /> : <FileLink a={a} />}</li>
      ))}
    </ul>
  );
}

async function signedUrl(id: string, variant: 'original' | 'preview'): Promise<string> {
  const api = createApi(savedToken() ?? '');
  const link = await api.get<{ url: string }>(`/attachments/${id}/link?variant=${variant}`);
  return link.url;
}

function ImagePreview({ a }: { a: AttachmentRef }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void signedUrl(a.id, 'preview')
      .then((u) => live && setSrc(u))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [a.id]);
  return (
    <button type="button" className="attachment-image" onClick={() => void open(a.id)} title={a.name}>
      {src ? <img src={src} alt={a.name} /> : <span>{a.name}</span>}
    </button>
  );
}

async function open(id: string) {
  window.open(await signedUrl(id, 'original'), '_blank', 'noopener');
}

function FileLink({ a }: { a: AttachmentRef }) {
  return (
    <a
      className="attachment-file"
      href={a.url}
      download={a.name}
      onClick={(e) => {
        e.preventDefault();
        void open(a.id);
      }}
    >
      📎 {a.name} <small>({formatSize(a.size)})</small>
    </a>
  );
}
