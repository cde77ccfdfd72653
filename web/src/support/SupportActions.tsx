import { useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import { type Actor, ApiError, type Page, type SupportChat } from '../api.ts';
import { errorText, type useAction } from '../ui.tsx';

const STATE_LABEL: Record<string, string> = {
  waiting: 'Waiting for an operator',
  connected: 'Connected',
  ended: 'Ended',
  missed: 'Missed',
};

/**
 * The support chat's own controls in the conversation: Pick up (waiting), Transfer (a waiting chat
 * to another department, a connected one to another operator) and End (after a confirmation).
 */
export function SupportActions({
  session,
  chat,
  action,
  onChanged,
}: {
  session: Session;
  chat: SupportChat;
  action: ReturnType<typeof useAction>;
  onChanged: (chat: SupportChat, picked?: boolean) => void;
}) {
  const { api, me } = session;
  const [notice, setNotice] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [departments, setDepartments] = useState<{ id: string; name: string }[]>([]);
  const [operators, setOperators] = useState<Actor[]>([]);

  useEffect(() => {
    api
      .get<Page<{ id: string; name: string }>>('/departments?limit=100')
      .then((p) => setDepartments(p.items))
      .catch(() => undefined);
    api
      .get<Page<Actor>>('/actors?kind=user&limit=100')
      .then((p) => setOperators(p.items.filter((a) => ['operator', 'admin', 'owner'].includes(a.role ?? ''))))
      .catch(() => undefined);
  }, [api]);

  // A change elsewhere (another operator picked it up, the visitor ended it) resets the controls.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the chat's state changes
  useEffect(() => {
    setTarget('');
    setConfirmEnd(false);
  }, [chat.state, chat.attender?.id]);

  const open = chat.state === 'waiting' || chat.state === 'connected';
  const attendedByMe = chat.attender?.id === me.actor.id;
  const transferChoices =
    chat.state === 'waiting'
      ? departments.filter((d) => d.id !== chat.department?.id).map((d) => [`department:${d.id}`, d.name])
      : operators.filter((o) => o.id !== chat.attender?.id).map((o) => [`operator:${o.id}`, o.name]);

  const pickup = () =>
    action.run(async () => {
      setNotice(null);
      try {
        onChanged(await api.post<SupportChat>(`/support/chats/${chat.id}/pickup`), true);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'chat_not_waiting') {
          const owner = (err.details as { owner?: { name?: string } } | null)?.owner?.name;
          setNotice(`Too late: ${owner ?? 'another operator'} picked up this chat first.`);
          onChanged(await api.get<SupportChat>(`/support/chats/${chat.id}`));
          return;
        }
        throw err;
      }
    });

  const transfer = () =>
    action.run(async () => {
      const [kind, id] = target.split(':');
      const body = kind === 'department' ? { department_id: id } : { operator_id: id };
      const moved = await api.post<SupportChat>(`/support/chats/${chat.id}/transfer`, body);
      const to = transferChoices.find(([v]) => v === target)?.[1];
      setNotice(`Transferred to ${to ?? 'them'}.`);
      onChanged(moved);
    });

  const end = () =>
    action.run(async () => {
      onChanged(await api.post<SupportChat>(`/support/chats/${chat.id}/end`));
      setNotice(null);
    });

  return (
    <section className="support-actions" aria-label="Support chat actions">
      <p className={`support-state state-${chat.state}`} role="status">
        <strong className={`state-label-${chat.state}`}>{STATE_LABEL[chat.state] ?? chat.state}</strong>
        {chat.department && <span> · {chat.department.name}</span>}
        {chat.attender && chat.state === 'connected' && (
          <span> · {attendedByMe ? 'you attend it' : `${chat.attender.name} attends it`}</span>
        )}
        <span className="ref"> · #{chat.reference_id}</span>
      </p>
      {open && (
        <div className="support-buttons">
          {chat.state === 'waiting' && (
            <button type="button" className="pickup" disabled={action.busy} onClick={() => void pickup()}>
              Pick up
            </button>
          )}
          {transferChoices.length > 0 && (
            <span className="transfer">
              <label>
                <span className="sr-only">Transfer to</span>
                <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Transfer to">
                  <option value="">
                    {chat.state === 'waiting' ? 'Transfer to department…' : 'Transfer to operator…'}
                  </option>
                  {transferChoices.map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" disabled={!target || action.busy} onClick={() => void transfer()}>
                Transfer
              </button>
            </span>
          )}
          {confirmEnd ? (
            <>
              <button type="button" className="danger" disabled={action.busy} onClick={() => void end()}>
                End now
              </button>
              <button type="button" onClick={() => setConfirmEnd(false)}>
                Keep open
              </button>
            </>
          ) : (
            <button type="button" disabled={action.busy} onClick={() => setConfirmEnd(true)}>
              End chat
            </button>
          )}
        </div>
      )}
      {chat.state === 'waiting' && <p className="hint">Pick the chat up to answer the visitor.</p>}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {action.error ? (
        <p className="error" role="alert">
          {errorText(action.error)}
        </p>
      ) : null}
    </section>
  );
}
