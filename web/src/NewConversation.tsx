import { useState } from 'react';
import type { Session } from './App.tsx';
import type { Conversation } from './api.ts';
import { ErrorNote, useAction } from './ui.tsx';

/** Start a direct chat, a group or a channel with people of the org. */
export function NewConversation({
  session,
  onCreated,
}: {
  session: Session;
  onCreated: (c: Conversation) => void;
}) {
  const { api, me, names } = session;
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState('group');
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const action = useAction();
  const people = [...names.entries()].filter(([id]) => id !== me.actor.id);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New conversation
      </button>
    );
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
            ...(kind !== 'direct' && title.trim() ? { title: title.trim() } : {}),
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
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="direct">Direct chat</option>
          <option value="group">Group</option>
          <option value="channel">Channel</option>
        </select>
      </label>
      {kind !== 'direct' && (
        <label>
          Title{' '}
          <input value={title} onChange={(e) => setTitle(e.target.value)} required={kind === 'channel'} />
        </label>
      )}
      <label>
        {kind === 'direct' ? 'With' : 'Members'}
        <select
          multiple={kind !== 'direct'}
          value={kind === 'direct' ? (members[0] ?? '') : members}
          onChange={(e) => setMembers([...e.target.selectedOptions].map((o) => o.value).filter(Boolean))}
          size={kind === 'direct' ? undefined : Math.min(5, Math.max(2, people.length))}
        >
          {kind === 'direct' && <option value="">Choose a person</option>}
          {people.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <div>
        <button type="submit" disabled={action.busy || (kind === 'direct' && members.length !== 1)}>
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
