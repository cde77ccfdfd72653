import { type FormEvent, useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import type { Conversation } from '../api.ts';
import { PeoplePicker, usePeople } from '../PeoplePicker.tsx';
import { ErrorNote, plural, useAction } from '../ui.tsx';
import { PresenceAvatar } from './Presence.tsx';
import type { Members, PresenceStatus } from './teamchat.ts';

const ROLE_RANK: Record<string, number> = { owner: 0, admin: 1, member: 2 };

/**
 * A group's or channel's members and settings, under its header (folded at first): the member
 * list with each one's role and presence (every member: opening it reads the pages past the
 * first), **Rename**, **Add people** (the people picker) and **Remove** (for the conversation's
 * owner and admins, and org admins). Whatever the server refuses is shown as it words it.
 */
export function ConversationSettings({
  session,
  conv,
  members,
  presence,
}: {
  session: Session;
  conv: Conversation;
  members: Members;
  presence: Map<string, PresenceStatus>;
}) {
  const { api, me } = session;
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState(conv.title ?? '');
  const [adding, setAdding] = useState(false);
  const [chosen, setChosen] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const people = usePeople(api, adding, action.setError);

  useEffect(() => setTitle(conv.title ?? ''), [conv.title]);
  useEffect(() => {
    if (open) members.loadAll();
  }, [open, members.loadAll]);

  const mine = members.items.find((m) => m.id === me.actor.id);
  const orgAdmin = me.actor.role === 'owner' || me.actor.role === 'admin';
  const canRemove = orgAdmin || mine?.role === 'owner' || mine?.role === 'admin';
  const memberIds = new Set(members.items.map((m) => m.id));
  const sorted = [...members.items].sort(
    (a, b) =>
      (ROLE_RANK[a.role ?? 'member'] ?? 3) - (ROLE_RANK[b.role ?? 'member'] ?? 3) ||
      a.name.localeCompare(b.name),
  );
  const online = members.items.filter((m) => presence.get(m.id) === 'online').length;

  const rename = (e: FormEvent) => {
    e.preventDefault();
    const next = title.trim();
    if (!next || next === conv.title) return;
    void action.run(async () => {
      setNotice(null);
      await api.patch(`/conversations/${conv.id}`, { title: next });
      setNotice(`Renamed to “${next}”.`);
    });
  };

  const add = () =>
    action.run(async () => {
      setNotice(null);
      await api.post(`/conversations/${conv.id}/members`, { actor_ids: chosen });
      const names = (people ?? []).filter((p) => chosen.includes(p.id)).map((p) => p.name);
      setNotice(`Added ${names.join(', ')}.`);
      setChosen([]);
      setAdding(false);
    });

  const remove = (id: string, name: string) =>
    window.confirm(`Remove ${name} from “${conv.title ?? 'this conversation'}”?`) &&
    action.run(async () => {
      setNotice(null);
      await api.del(`/conversations/${conv.id}/members/${id}`);
      setNotice(`Removed ${name}.`);
    });

  return (
    <details
      className="members-bar conv-settings"
      open={open}
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>
        {plural(conv.participant_count, 'member')} · {online} online
        <span className="sr-only">: members and settings</span>
      </summary>
      <div className="conv-settings-body">
        <form className="rename" onSubmit={rename}>
          <label>
            Name <input value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} required />
          </label>
          <button type="submit" disabled={action.busy || !title.trim() || title.trim() === conv.title}>
            Rename
          </button>
        </form>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorNote error={action.error} />
        <ul aria-label="Members" className="member-list">
          {sorted.map((m) => (
            <li key={m.id} aria-label={`${m.name}, ${presence.get(m.id) ?? 'offline'}`}>
              <PresenceAvatar name={m.name} status={presence.get(m.id)} size="sm" />
              <span className="member-name">
                {m.name}
                {m.id === me.actor.id && <small> (you)</small>}
              </span>
              {m.role && m.role !== 'member' && <span className="mark">{m.role}</span>}
              {canRemove && m.id !== me.actor.id && (
                <button
                  type="button"
                  className="small-button"
                  disabled={action.busy}
                  aria-label={`Remove ${m.name}`}
                  onClick={() => void remove(m.id, m.name)}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
          {!members.complete && <li className="muted">Loading more members…</li>}
        </ul>
        {adding ? (
          <div className="add-members">
            <PeoplePicker
              legend="Add people"
              people={people ? people.filter((p) => !memberIds.has(p.id)) : null}
              chosen={chosen}
              onToggle={(id) =>
                setChosen((prev) => (prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]))
              }
            />
            <button type="button" disabled={action.busy || chosen.length === 0} onClick={() => void add()}>
              Add {chosen.length > 0 ? plural(chosen.length, 'person', 'people') : ''}
            </button>{' '}
            <button
              type="button"
              onClick={() => {
                setAdding(false);
                setChosen([]);
              }}
            >
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" onClick={() => setAdding(true)}>
            Add people
          </button>
        )}
      </div>
    </details>
  );
}
