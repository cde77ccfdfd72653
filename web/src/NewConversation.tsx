import { useState } from 'react';
import type { Session } from './App.tsx';
import type { Conversation } from './api.ts';
import { PeoplePicker, usePeople } from './PeoplePicker.tsx';
import { ErrorNote, useAction } from './ui.tsx';

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
  const action = useAction();
  const everyone = usePeople(api, open, action.setError);
  const people = everyone ? everyone.filter((a) => a.id !== me.actor.id) : null;

  if (!open)
    return (
      <button type="button" className="new-conv-open" onClick={() => setOpen(true)}>
        + New conversation
      </button>
    );
  const direct = kind === 'direct';
  const toggle = (id: string) =>
    setMembers((prev) => (direct ? [id] : prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]));
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
      <PeoplePicker
        legend={direct ? 'With' : 'Members'}
        people={people}
        chosen={members}
        single={direct}
        onToggle={toggle}
      />
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
