import { useEffect, useState } from 'react';
import type { Session } from './App.tsx';
import type { Conversation, Page, Person } from './api.ts';
import { Avatar, ErrorNote, useAction } from './ui.tsx';

/**
 * Start a direct chat, a group or a channel. The people picker lists the org's users only (not
 * visitors or bots), with a search box; a direct chat takes one person, a group or channel any
 * number.
 */
export function NewConversation({
  session,
  onCreated,
}: {
  session: Session;
  onCreated: (c: Conversation) => void;
}) {
  const { api, me } = session;
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState('group');
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const [find, setFind] = useState('');
  const [people, setPeople] = useState<Person[] | null>(null);
  const action = useAction();

  useEffect(() => {
    if (!open || people) return;
    api
      .get<Page<Person>>('/actors?kind=user&limit=100')
      .then((p) => setPeople(p.items.filter((a) => a.id !== me.actor.id)))
      .catch((err) => {
        setPeople([]);
        action.setError(err);
      });
  }, [open, people, api, me.actor.id, action.setError]);

  if (!open)
    return (
      <button type="button" className="new-conv-open" onClick={() => setOpen(true)}>
        + New conversation
      </button>
    );
  const needle = find.trim().toLowerCase();
  const shown = (people ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || (p.email ?? '').toLowerCase().includes(needle),
  );
  const direct = kind === 'direct';
  const toggle = (id: string) =>
    setMembers((prev) => (direct ? [id] : prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]));
  const chosen = (people ?? []).filter((p) => members.includes(p.id));
  return (
    <form
      className="new-conv"
      aria-label="New conversation"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          const c = await api.post<Conversation>('/conversations', {
            kind,
            member_ids: members,
            ...(!direct && title.trim() ? { title: title.trim() } : {}),
          });
          setOpen(false);
          setTitle('');
          setMembers([]);
          setFind('');
          onCreated(c);
        });
      }}
    >
      <label>
        Type{' '}
        <select
          value={kind}
          onChange={(e) => {
            setKind(e.target.value);
            if (e.target.value === 'direct') setMembers((prev) => prev.slice(0, 1));
          }}
        >
          <option value="direct">Direct chat</option>
          <option value="group">Group</option>
          <option value="channel">Channel</option>
        </select>
      </label>
      {!direct && (
        <label>
          Title{' '}
          <input value={title} onChange={(e) => setTitle(e.target.value)} required={kind === 'channel'} />
        </label>
      )}
      <fieldset className="picker">
        <legend>{direct ? 'With' : 'Members'}</legend>
        <input
          type="search"
          aria-label="Find people"
          placeholder="Find people by name or email"
          value={find}
          onChange={(e) => setFind(e.target.value)}
        />
        {chosen.length > 0 && (
          <p className="picked" aria-live="polite">
            Chosen: {chosen.map((p) => p.name).join(', ')}
          </p>
        )}
        <ul className="picker-list" aria-label="People">
          {people === null && <li className="muted">Loading people…</li>}
          {people !== null && shown.length === 0 && <li className="muted">Nobody matches.</li>}
          {shown.map((p) => (
            <li key={p.id}>
              <label className="person">
                <input
                  type={direct ? 'radio' : 'checkbox'}
                  name="person"
                  checked={members.includes(p.id)}
                  onChange={() => toggle(p.id)}
                />
                <Avatar name={p.name} size="sm" />
                <span>
                  {p.name}
                  {p.role && <small> {p.role}</small>}
                </span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div>
        <button type="submit" disabled={action.busy || (direct ? members.length !== 1 : false)}>
          Create
        </button>{' '}
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}
