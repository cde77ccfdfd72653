import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import type { Page } from '../api.ts';
import { Busy, Empty, ErrorNote, time, useAction } from '../ui.tsx';
import type { FieldMode, Widget } from './types.ts';

const MODES: FieldMode[] = ['required', 'optional', 'hidden'];
const FIELDS = [
  ['name', 'Name'],
  ['email', 'Email'],
  ['question', 'Question'],
] as const;

interface Draft {
  name: string;
  origins: string;
  departmentIds: string[];
  prechat: Widget['prechat'];
  greeting: string;
  offlineMessage: string;
  colour: string;
}

const NEW: Draft = {
  name: 'Website',
  origins: '',
  departmentIds: [],
  prechat: { name: 'optional', email: 'optional', question: 'required' },
  greeting: 'Hi! How can we help?',
  offlineMessage: '',
  colour: '#2356c7',
};

function draftOf(w: Widget): Draft {
  return {
    name: w.name,
    origins: w.allowed_origins.join('\n'),
    departmentIds: w.department_ids,
    prechat: w.prechat,
    greeting: w.greeting,
    offlineMessage: w.offline_message,
    colour: w.colour,
  };
}

function bodyOf(d: Draft) {
  return {
    name: d.name.trim(),
    allowed_origins: d.origins
      .split(/[\n,]/)
      .map((o) => o.trim())
      .filter(Boolean),
    department_ids: d.departmentIds,
    prechat: d.prechat,
    greeting: d.greeting,
    offline_message: d.offlineMessage,
    colour: d.colour,
  };
}

/** Widgets (owners and admins): list, create, edit every field, the snippet to paste, rotate the secret. */
export function WidgetAdmin({ session }: { session: Session }) {
  const { api } = session;
  const [widgets, setWidgets] = useState<Widget[] | null>(null);
  const [departments, setDepartments] = useState<{ id: string; name: string }[]>([]);
  const [editing, setEditing] = useState<Widget | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    const [w, d] = await Promise.all([
      api.get<Page<Widget>>('/widgets?limit=100'),
      api.get<Page<{ id: string; name: string }>>('/departments?limit=100'),
    ]);
    setWidgets(w.items);
    setDepartments(d.items);
  }, [api]);

  useEffect(() => {
    void action.run(load);
  }, [load, action.run]);

  const saved = (w: Widget, created: boolean) => {
    setWidgets((prev) => (created ? [...(prev ?? []), w] : (prev ?? []).map((x) => (x.id === w.id ? w : x))));
    setEditing(null);
    setNotice(
      created ? `Widget “${w.name}” created: paste its snippet below into your site.` : `Saved “${w.name}”.`,
    );
  };

  return (
    <section aria-labelledby="widgets-title" className="widget-admin">
      <h1 id="widgets-title">Website widgets</h1>
      <p>
        A widget puts a chat button on your website. Visitors' chats arrive in the queue of the widget's
        departments; the page must be on one of its allowed origins.
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={editing ? null : action.error} />
      {editing === null && (
        <button
          type="button"
          onClick={() => {
            setNotice(null);
            setEditing('new');
          }}
        >
          New widget
        </button>
      )}
      {editing !== null && (
        <WidgetForm
          session={session}
          widget={editing === 'new' ? null : editing}
          departments={departments}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      )}
      {widgets === null && !action.error && <Busy label="Loading widgets…" />}
      {widgets?.length === 0 && editing === null && <Empty>No widget yet.</Empty>}
      <ul className="widget-list" aria-label="Widgets">
        {widgets?.map((w) => (
          <li key={w.id} className="widget-card">
            <WidgetCard
              session={session}
              widget={w}
              departments={departments}
              onEdit={() => {
                setNotice(null);
                setEditing(w);
              }}
              onChanged={(next) =>
                setWidgets((prev) => (prev ?? []).map((x) => (x.id === next.id ? next : x)))
              }
              onDeleted={() => {
                setWidgets((prev) => (prev ?? []).filter((x) => x.id !== w.id));
                setNotice(`Deleted “${w.name}”.`);
              }}
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function WidgetCard({
  session,
  widget: w,
  departments,
  onEdit,
  onChanged,
  onDeleted,
}: {
  session: Session;
  widget: Widget;
  departments: { id: string; name: string }[];
  onEdit: () => void;
  onChanged: (w: Widget) => void;
  onDeleted: () => void;
}) {
  const { api } = session;
  const [showSecret, setShowSecret] = useState(false);
  const [confirm, setConfirm] = useState<'rotate' | 'delete' | null>(null);
  const [copied, setCopied] = useState(false);
  const action = useAction();
  const names = w.department_ids.map((id) => departments.find((d) => d.id === id)?.name ?? id);
  return (
    <article aria-labelledby={`widget-${w.id}`}>
      <header className="widget-card-head">
        <span className="swatch" style={{ background: w.colour }} aria-hidden="true" />
        <h2 id={`widget-${w.id}`}>{w.name}</h2>
        <button type="button" onClick={onEdit} aria-label={`Edit ${w.name}`}>
          Edit
        </button>
      </header>
      <dl className="details">
        <dt>Public key</dt>
        <dd>
          <code>{w.public_key}</code>
        </dd>
        <dt>Allowed origins</dt>
        <dd>{w.allowed_origins.length ? w.allowed_origins.join(', ') : 'none: the widget shows nowhere'}</dd>
        <dt>Departments</dt>
        <dd>{names.join(', ')}</dd>
        <dt>Pre-chat</dt>
        <dd>
          name {w.prechat.name}, email {w.prechat.email}, question {w.prechat.question}
        </dd>
        <dt>Greeting</dt>
        <dd>{w.greeting || '—'}</dd>
        <dt>Offline message</dt>
        <dd>{w.offline_message || '—'}</dd>
        <dt>Updated</dt>
        <dd>{time(w.updated_at ?? w.created_at)}</dd>
      </dl>
      <label className="snippet">
        <span>
          Paste this before <code>&lt;/body&gt;</code> on your site:
        </span>
        <textarea readOnly rows={2} value={w.embed_snippet} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div className="row">
        <button
          type="button"
          onClick={() =>
            void navigator.clipboard
              ?.writeText(w.embed_snippet)
              .then(() => setCopied(true))
              .catch(() => setCopied(false))
          }
        >
          Copy snippet
        </button>
        {copied && <span role="status">Copied.</span>}
      </div>
      <div className="row secret-row">
        <span>
          Identity secret (signs known customers on your server):{' '}
          <code>{showSecret ? w.secret : '••••••••••••'}</code>
        </span>
        <button type="button" onClick={() => setShowSecret((s) => !s)}>
          {showSecret ? 'Hide' : 'Show'}
        </button>
        {confirm === 'rotate' ? (
          <>
            <button
              type="button"
              className="danger"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  onChanged(await api.patch<Widget>(`/widgets/${w.id}`, { rotate_secret: true }));
                  setConfirm(null);
                  setShowSecret(true);
                })
              }
            >
              Rotate now (old signatures stop working)
            </button>
            <button type="button" onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirm('rotate')}>
            Rotate secret
          </button>
        )}
      </div>
      <div className="row">
        {confirm === 'delete' ? (
          <>
            <button
              type="button"
              className="danger"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  await api.del(`/widgets/${w.id}`);
                  onDeleted();
                })
              }
            >
              Delete “{w.name}” (its visitors are signed out; chats stay)
            </button>
            <button type="button" onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirm('delete')}>
            Delete widget
          </button>
        )}
      </div>
      <ErrorNote error={action.error} />
    </article>
  );
}

function WidgetForm({
  session,
  widget,
  departments,
  onSaved,
  onCancel,
}: {
  session: Session;
  widget: Widget | null;
  departments: { id: string; name: string }[];
  onSaved: (w: Widget, created: boolean) => void;
  onCancel: () => void;
}) {
  const { api } = session;
  const [d, setD] = useState<Draft>(() => (widget ? draftOf(widget) : { ...NEW }));
  const action = useAction();
  const set = (patch: Partial<Draft>) => setD((prev) => ({ ...prev, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      if (widget) onSaved(await api.patch<Widget>(`/widgets/${widget.id}`, bodyOf(d)), false);
      else onSaved(await api.post<Widget>('/widgets', bodyOf(d)), true);
    });
  };
  const title = widget ? `Edit “${widget.name}”` : 'New widget';
  return (
    <form className="widget-form" onSubmit={submit} aria-label={title}>
      <h2>{title}</h2>
      <label>
        Name (shown in the chat's header)
        <input value={d.name} onChange={(e) => set({ name: e.target.value })} required maxLength={100} />
      </label>
      <label>
        Allowed origins (one per line, like https://shop.example)
        <textarea
          rows={3}
          value={d.origins}
          onChange={(e) => set({ origins: e.target.value })}
          placeholder="https://shop.example"
        />
      </label>
      <fieldset>
        <legend>Departments</legend>
        <p className="hint">
          {departments.length === 0
            ? 'Create a department first (Admin → Departments).'
            : 'Visitors choose among them; the first one checked is the default.'}
        </p>
        {departments.map((dep) => (
          <label key={dep.id} className="check">
            <input
              type="checkbox"
              checked={d.departmentIds.includes(dep.id)}
              onChange={(e) =>
                set({
                  departmentIds: e.target.checked
                    ? [...d.departmentIds, dep.id]
                    : d.departmentIds.filter((x) => x !== dep.id),
                })
              }
            />{' '}
            {dep.name}
          </label>
        ))}
      </fieldset>
      <fieldset className="prechat">
        <legend>Pre-chat form</legend>
        {FIELDS.map(([key, label]) => (
          <label key={key}>
            {label}{' '}
            <select
              value={d.prechat[key]}
              onChange={(e) => set({ prechat: { ...d.prechat, [key]: e.target.value as FieldMode } })}
            >
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      <label>
        Greeting
        <textarea
          rows={2}
          maxLength={500}
          value={d.greeting}
          onChange={(e) => set({ greeting: e.target.value })}
        />
      </label>
      <label>
        Offline message (above the leave-a-message form)
        <textarea
          rows={2}
          maxLength={1000}
          value={d.offlineMessage}
          onChange={(e) => set({ offlineMessage: e.target.value })}
        />
      </label>
      <div className="colour-row">
        <label>
          Colour
          <input type="color" value={d.colour} onChange={(e) => set({ colour: e.target.value })} />
        </label>
        <input
          value={d.colour}
          onChange={(e) => set({ colour: e.target.value })}
          pattern="#[0-9a-fA-F]{6}"
          size={8}
          aria-label="Colour code (#rrggbb)"
        />
      </div>
      <ErrorNote error={action.error} />
      <div className="row">
        <button type="submit" disabled={action.busy}>
          {widget ? 'Save widget' : 'Create widget'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
