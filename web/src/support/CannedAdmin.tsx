import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import type { Page } from '../api.ts';
import { Busy, Empty, ErrorNote, useAction } from '../ui.tsx';
import type { CannedResponse } from './types.ts';

/** The org's canned responses (owners and admins): create, edit, delete. Operators type /shortcut. */
export function CannedAdmin({ session }: { session: Session }) {
  const { api } = session;
  const [items, setItems] = useState<CannedResponse[] | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    setItems((await api.get<Page<CannedResponse>>('/canned-responses?limit=100')).items);
  }, [api]);
  useEffect(() => {
    void action.run(load);
  }, [load, action.run]);

  return (
    <section aria-labelledby="canned-title" className="canned-admin">
      <h1 id="canned-title">Canned responses</h1>
      <p>
        Snippets operators insert in a support chat by typing <code>/</code> and the shortcut in the message
        box.
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <CannedForm
        session={session}
        item={null}
        onSaved={(c) => {
          setItems((prev) => [...(prev ?? []), c].sort((a, b) => a.shortcut.localeCompare(b.shortcut)));
          setNotice(`Added /${c.shortcut}.`);
        }}
      />
      <ErrorNote error={action.error} />
      {items === null && !action.error && <Busy label="Loading canned responses…" />}
      {items?.length === 0 && <Empty>No canned responses yet.</Empty>}
      <ul className="canned-list" aria-label="Canned responses">
        {items?.map((c) =>
          editing === c.id ? (
            <li key={c.id}>
              <CannedForm
                session={session}
                item={c}
                onSaved={(next) => {
                  setItems((prev) => (prev ?? []).map((x) => (x.id === next.id ? next : x)));
                  setEditing(null);
                  setNotice(`Saved /${next.shortcut}.`);
                }}
                onCancel={() => setEditing(null)}
              />
            </li>
          ) : (
            <li key={c.id} className="canned-row">
              <div>
                <code className="shortcut">/{c.shortcut}</code> <strong>{c.title}</strong>
                <p>{c.text}</p>
              </div>
              <div className="row">
                <button type="button" aria-label={`Edit /${c.shortcut}`} onClick={() => setEditing(c.id)}>
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={`Delete /${c.shortcut}`}
                  disabled={action.busy}
                  onClick={() =>
                    window.confirm(`Delete /${c.shortcut}?`) &&
                    action.run(async () => {
                      await api.del(`/canned-responses/${c.id}`);
                      setItems((prev) => (prev ?? []).filter((x) => x.id !== c.id));
                      setNotice(`Deleted /${c.shortcut}.`);
                    })
                  }
                >
                  Delete
                </button>
              </div>
            </li>
          ),
        )}
      </ul>
    </section>
  );
}

function CannedForm({
  session,
  item,
  onSaved,
  onCancel,
}: {
  session: Session;
  item: CannedResponse | null;
  onSaved: (c: CannedResponse) => void;
  onCancel?: () => void;
}) {
  const { api } = session;
  const [shortcut, setShortcut] = useState(item?.shortcut ?? '');
  const [title, setTitle] = useState(item?.title ?? '');
  const [text, setText] = useState(item?.text ?? '');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body = { shortcut: shortcut.trim(), text, ...(title.trim() ? { title: title.trim() } : {}) };
      const saved = item
        ? await api.patch<CannedResponse>(`/canned-responses/${item.id}`, body)
        : await api.post<CannedResponse>('/canned-responses', body);
      onSaved(saved);
      if (!item) {
        setShortcut('');
        setTitle('');
        setText('');
      }
    });
  };
  const label = item ? `Edit /${item.shortcut}` : 'New canned response';
  return (
    <form className="canned-form" onSubmit={submit} aria-label={label}>
      {!item && <h2>{label}</h2>}
      <div className="row">
        <label>
          Shortcut
          <input
            value={shortcut}
            onChange={(e) => setShortcut(e.target.value)}
            required
            maxLength={33}
            placeholder="hours"
            spellCheck={false}
          />
        </label>
        <label>
          Title (optional)
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} />
        </label>
      </div>
      <label>
        Text
        <textarea rows={3} value={text} onChange={(e) => setText(e.target.value)} required maxLength={5000} />
      </label>
      <ErrorNote error={action.error} />
      <div className="row">
        <button type="submit" disabled={action.busy}>
          {item ? 'Save' : 'Add canned response'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
