import { useEffect, useRef, useState } from 'react';
import { newClientId, savedToken } from '../api.ts';
import { formatSize } from './AttachmentView.tsx';

interface Pending {
  key: string;
  file: File;
  /** 0-1 while uploading. */
  progress: number;
  id: string | null;
  error: string | null;
}

/** Uploads one file with XMLHttpRequest (fetch has no upload progress); resolves the upload id. */
function uploadFile(conversationId: string, file: File, onProgress: (p: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/conversations/${conversationId}/attachments?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('authorization', `Bearer ${savedToken() ?? ''}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new Error('The server cannot be reached'));
    xhr.onload = () => {
      let body: { id?: string; error?: { message?: string } } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status === 201 && body.id) resolve(body.id);
      else reject(new Error(body.error?.message ?? `HTTP ${xhr.status}`));
    };
    xhr.send(file);
  });
}

/**
 * Attach files to the conversation: the 📎 button, drag and drop onto the composer, or paste
 * (an image from the clipboard). Each file uploads at once with a progress bar; "Send files"
 * sends one message carrying them.
 */
export function Uploader({ conversationId }: { conversationId: string }) {
  const [pending, setPending] = useState<Pending[]>([]);
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const anchor = useRef<HTMLSpanElement>(null);

  const add = (files: Iterable<File>) => {
    for (const file of files) {
      const key = newClientId('file');
      setPending((p) => [...p, { key, file, progress: 0, id: null, error: null }]);
      const update = (u: Partial<Pending>) =>
        setPending((p) => p.map((x) => (x.key === key ? { ...x, ...u } : x)));
      uploadFile(conversationId, file, (progress) => update({ progress })).then(
        (id) => update({ id, progress: 1 }),
        (err: Error) => update({ error: err.message }),
      );
    }
  };
  const addRef = useRef(add);
  addRef.current = add;

  // Drop and paste on the composer form this button sits in.
  useEffect(() => {
    const form = anchor.current?.closest('form');
    if (!form) return;
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      addRef.current(e.dataTransfer.files);
    };
    const paste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      addRef.current(files);
    };
    form.addEventListener('dragover', over);
    form.addEventListener('drop', drop);
    form.addEventListener('paste', paste);
    return () => {
      form.removeEventListener('dragover', over);
      form.removeEventListener('drop', drop);
      form.removeEventListener('paste', paste);
    };
  }, []);

  const ready = pending.filter((p) => p.id);
  const send = async () => {
    setSending(true);
    try {
      const res = await fetch(`/v1/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${savedToken() ?? ''}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({
          text: `📎 ${ready.map((p) => p.file.name).join(', ')}`,
          attachments: ready.map((p) => p.id),
          client_id: newClientId(),
        }),
      });
      if (res.ok) setPending((p) => p.filter((x) => !x.id));
    } finally {
      setSending(false);
    }
  };

  return (
    <span ref={anchor} className="uploader">
      <button type="button" aria-label="Attach files" onClick={() => input.current?.click()}>
        📎
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Files to attach"
        onChange={(e) => {
          if (e.target.files) add(e.target.files);
          e.target.value = '';
        }}
      />
      {pending.length > 0 && (
        <span className="uploads">
          {pending.map((p) => (
            <span key={p.key} className="upload">
              {p.file.name} ({formatSize(p.file.size)}){' '}
              {p.error ? (
                <em role="alert">{p.error}</em>
              ) : (
                <progress max={1} value={p.progress} aria-label={`Uploading ${p.file.name}`} />
              )}
              <button
                type="button"
                aria-label={`Remove ${p.file.name}`}
                onClick={() => setPending((all) => all.filter((x) => x.key !== p.key))}
              >
                ×
              </button>
            </span>
          ))}
          <button
            type="button"
            disabled={sending || ready.length === 0 || ready.length < pending.filter((p) => !p.error).length}
            onClick={() => void send()}
          >
            Send files
          </button>
        </span>
      )}
    </span>
  );
}
